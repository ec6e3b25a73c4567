package org.tlspolicy.tlsrpt.collect;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A log file read line by line with each line's offset, followed across rotation: when the
 * file at the path is no longer the one being read (logrotate renamed it and made a new one),
 * the old one is read to its end first and then the new one from its start; when the file
 * shrank under the reader (copytruncate), reading starts again at 0.
 *
 * <p>A line is only returned once its newline has been written: a line being written is
 * left for the next read. Lines longer than the buffer (256 KiB; Postfix's are below 2 KiB)
 * are skipped whole.
 */
final class LogFile implements AutoCloseable {

    /** One line: its text (UTF-8, invalid bytes replaced), where it starts and ends. */
    record Line(String text, long start, long end) {
    }

    private final Path path;
    private FileChannel channel;
    private long inode;
    private long offset;
    private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
    private long bufferStart;

    private LogFile(Path path, FileChannel channel, long inode, long offset) {
        this.path = path;
        this.channel = channel;
        this.inode = inode;
        this.offset = offset;
        this.bufferStart = offset;
        buffer.limit(0);
    }

    static long inode(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    /**
     * Opens {@code path} to read from {@code from}: at its offset if the file there is the
     * one it names; in the rotated copy {@code path.1} if that is the one (read to its end,
     * then {@code path} from 0); else {@code path} from 0 (a new file since).
     */
    static LogFile open(Path path, LogPosition from) throws IOException {
        long current = inode(path);
        if (from == null || from.inode() == current) {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            long start = from == null ? 0 : from.resume();
            if (start > ch.size()) {
                start = 0; // truncated while we were away
            }
            return new LogFile(path, ch, current, start);
        }
        Path rotated = path.resolveSibling(path.getFileName() + ".1");
        try {
            if (inode(rotated) == from.inode()) {
                FileChannel ch = FileChannel.open(rotated, StandardOpenOption.READ);
                return new LogFile(path, ch, from.inode(), Math.min(from.resume(), ch.size()));
            }
        } catch (NoSuchFileException gone) {
            // rotated away further or deleted: what it held after our position is lost
        }
        return new LogFile(path, FileChannel.open(path, StandardOpenOption.READ), current, 0);
    }

    long inode() {
        return inode;
    }

    /** The offset after the last line returned. */
    long offset() {
        return offset;
    }

    /**
     * The next complete line, or null if there is none yet. At the end of a file that has been
     * replaced at the path, moves on to the new file (the returned line's offsets are then in
     * it: see {@link #inode()}).
     */
    Line next() throws IOException {
        while (true) {
            Line l = lineInBuffer();
            if (l != null) {
                return l;
            }
            if (fill() > 0) {
                continue;
            }
            // At the end of what is written. Is the path still this file?
            long now;
            try {
                now = inode(path);
            } catch (NoSuchFileException e) {
                return null; // between rename and create: try again later
            }
            if (now != inode) {
                if (fill() > 0) {
                    continue; // written just before the switch
                }
                channel.close();
                channel = FileChannel.open(path, StandardOpenOption.READ);
                inode = now;
                reset(0);
                continue;
            }
            if (channel.size() < offset) {
                reset(0); // copytruncate
                continue;
            }
            return null;
        }
    }

    private void reset(long to) {
        offset = to;
        bufferStart = to;
        buffer.clear();
        buffer.limit(0);
    }

    private Line lineInBuffer() {
        int pos = (int) (offset - bufferStart);
        for (int i = pos; i < buffer.limit(); i++) {
            if (buffer.get(i) == '\n') {
                int len = i - pos;
                String text = new String(buffer.array(), pos, len, StandardCharsets.UTF_8);
                long start = offset;
                offset = bufferStart + i + 1;
                return new Line(text, start, offset);
            }
        }
        return null;
    }

    /** Reads more into the buffer; returns the bytes added (0 at the end of the file). */
    private int fill() throws IOException {
        int pending = (int) (offset - bufferStart);
        buffer.position(pending);
        buffer.compact();
        bufferStart = offset;
        // compact() leaves position after the kept bytes; read after them.
        if (!buffer.hasRemaining()) {
            // One line longer than the buffer: skip to its end, once it has one.
            long skipTo = skipLongLine();
            if (skipTo < 0) {
                buffer.flip();
                return 0;
            }
            reset(skipTo);
            return 1;
        }
        int n = channel.read(buffer, bufferStart + buffer.position());
        buffer.flip();
        return Math.max(n, 0);
    }

    private long skipLongLine() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8192);
        long at = bufferStart + buffer.capacity();
        while (true) {
            b.clear();
            int n = channel.read(b, at);
            if (n <= 0) {
                return -1; // not complete yet
            }
            for (int i = 0; i < n; i++) {
                if (b.get(i) == '\n') {
                    return at + i + 1;
                }
            }
            at += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
