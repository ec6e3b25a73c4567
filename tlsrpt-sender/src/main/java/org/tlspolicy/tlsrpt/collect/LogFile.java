package org.tlspolicy.tlsrpt.collect;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.GZIPInputStream;

/**
 * A log file read line by line with each line's offset, followed across every way logrotate
 * rotates: the file being read is known by its inode and by a fingerprint of its first bytes
 * ({@link LogPosition.Head}), so that it is found again wherever rotation put it.
 *
 * <ul>
 *   <li>Renamed ({@code mail.log.1}, or with {@code dateext} {@code mail.log-20261122}), and
 *       compressed at once or later ({@code .gz}, read as the original): the rest of it is
 *       read first, then the new file at the path from its start.</li>
 *   <li>Copied and truncated in place ({@code copytruncate}): what was written after our
 *       position and before the truncation is read from the copy (found by its fingerprint),
 *       then the truncated file from its start. A file truncated and written again past our
 *       position is told by its fingerprint too.</li>
 * </ul>
 * A file gone for good (deleted, or compressed with something other than gzip) is logged with
 * what was lost, and reading goes on with the file at the path.
 *
 * <p>A line is only returned once its newline has been written: a line being written is left
 * for the next read. Lines longer than the buffer (256 KiB; Postfix's are below 2 KiB) are
 * skipped whole, and counted ({@link #skipped()}).
 */
final class LogFile implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LogFile.class);

    /** Rotated siblings looked at, the newest first, when the file read last is not at the path. */
    static final int MAX_CANDIDATES = 30;

    /** One line: its text (UTF-8, invalid bytes replaced), where it starts and ends. */
    record Line(String text, long start, long end) {
    }

    /**
     * Where reading of a file ended when it moved on to the next ({@link #generation()}), and
     * what it holds before that, while it can still be read.
     */
    static final class Ended {
        private final long inode;
        private final long offset;
        private final LogPosition.Head head;
        private final Content content;

        Ended(long inode, long offset, LogPosition.Head head, Content content) {
            this.inode = inode;
            this.offset = offset;
            this.head = head;
            this.content = content;
        }

        long inode() {
            return inode;
        }

        long offset() {
            return offset;
        }

        LogPosition.Head head() {
            return head;
        }

        /**
         * Its text from {@code from} to where reading ended, or null if it is longer than
         * {@code max} bytes or can no longer be read (truncated in place).
         */
        String tail(long from, int max) throws IOException {
            if (content == null || offset - from > max || from > offset) {
                return null;
            }
            ByteBuffer b = ByteBuffer.allocate((int) (offset - from));
            while (b.hasRemaining()) {
                if (content.read(b, from + b.position()) <= 0) {
                    return null;
                }
            }
            return new String(b.array(), StandardCharsets.UTF_8);
        }

        void close() throws IOException {
            if (content != null) {
                content.close();
            }
        }
    }

    /** Bytes by position: a file, or a gzip-compressed rotated copy read as the original. */
    private interface Content extends Closeable {
        /** Reads into {@code dst} from {@code position}; -1 at the end. */
        int read(ByteBuffer dst, long position) throws IOException;
    }

    private record FileContent(FileChannel channel) implements Content {
        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return channel.read(dst, position);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /**
     * A compressed copy, read forwards (a read behind the stream's position starts it again).
     * A damaged one ends where it can no longer be read: logged, not an error that would stop
     * collection for good.
     */
    private static final class GzipContent implements Content {
        private final Path file;
        private InputStream in;
        private long at;
        private boolean damaged;

        GzipContent(Path file) throws IOException {
            this.file = file;
            this.in = open(file);
        }

        static InputStream open(Path file) throws IOException {
            return new GZIPInputStream(new BufferedInputStream(Files.newInputStream(file),
                    65536), 65536);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            if (damaged) {
                return -1;
            }
            try {
                if (position < at) {
                    in.close();
                    in = open(file);
                    at = 0;
                }
                while (at < position) {
                    long n = in.skip(position - at);
                    if (n <= 0) {
                        if (in.read() < 0) {
                            return -1;
                        }
                        n = 1;
                    }
                    at += n;
                }
                int n = in.read(dst.array(), dst.arrayOffset() + dst.position(),
                        dst.remaining());
                if (n < 0) {
                    return -1;
                }
                dst.position(dst.position() + n);
                at += n;
                return n;
            } catch (IOException e) {
                damaged = true;
                log.warn("collect file={} compressed copy unreadable after {} bytes: {}; "
                        + "the rest of it is not counted", file, at, e.getMessage());
                return -1;
            }
        }

        @Override
        public void close() throws IOException {
            in.close();
        }
    }

    private final Path path;
    private Content content;
    /** The identity of what is read: the inode of the file it was at the path. */
    private long inode;
    /** The fingerprint of what is read, while it is a rotated copy (fixed), else null. */
    private LogPosition.Head drainingHead;
    /** The last fingerprint taken of the file at the path (to find its copy if truncated). */
    private LogPosition.Head liveHead = LogPosition.Head.NONE;
    private final boolean resumed;
    private long generation;
    private Ended ended;
    private long skipped;
    private long offset;
    private final ByteBuffer buffer = ByteBuffer.allocate(256 * 1024);
    private long bufferStart;

    private LogFile(Path path, Content content, long inode, long offset,
                    LogPosition.Head drainingHead, boolean resumed) {
        this.path = path;
        this.content = content;
        this.inode = inode;
        this.offset = offset;
        this.bufferStart = offset;
        this.drainingHead = drainingHead;
        this.resumed = resumed;
        buffer.limit(0);
    }

    static long inode(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    /**
     * Opens {@code path} to read from {@code from}: where it stopped, in the file at the path
     * if it is the one {@code from} names, else in its rotated copy (then the file at the path
     * from its start); from the start of the file at the path if {@code from} is null or its
     * file is gone.
     */
    static LogFile open(Path path, LogPosition from) throws IOException {
        long current = inode(path);
        if (from == null) {
            return live(path, current, 0, false);
        }
        if (from.inode() == current) {
            FileChannel ch = FileChannel.open(path, StandardOpenOption.READ);
            if (from.resume() <= ch.size() && matches(ch, from.head())) {
                LogFile f = new LogFile(path, new FileContent(ch), current, from.resume(), null,
                        true);
                f.liveHead = from.head();
                return f;
            }
            ch.close(); // truncated in place (copytruncate) since: the rest is in the copy
        }
        LogFile old = rotated(path, from, from.inode() == current);
        if (old != null) {
            return old;
        }
        if (from.counted() > 0) {
            log.warn("collect file={} lines the file last read (inode {}) got after offset {}, "
                    + "if any, are not counted: it is neither at the path nor found rotated "
                    + "beside it (.N, -DATE, .gz)", path, from.inode(), from.counted());
        }
        return live(path, current, 0, false);
    }

    private static LogFile live(Path path, long inode, long at, boolean resumed)
            throws IOException {
        return new LogFile(path, new FileContent(FileChannel.open(path,
                StandardOpenOption.READ)), inode, at, null, resumed);
    }

    /**
     * The rotated copy of the file {@code from} names, opened at its position, or null: by
     * inode among the uncompressed siblings (renamed), else by fingerprint (copied, or
     * compressed). {@code truncatedInPlace}: the file at the path is that inode, truncated.
     */
    private static LogFile rotated(Path path, LogPosition from, boolean truncatedInPlace)
            throws IOException {
        List<Path> candidates = siblings(path);
        if (!truncatedInPlace) {
            for (Path c : candidates) {
                if (!c.toString().endsWith(".gz") && inodeOrZero(c) == from.inode()) {
                    // Inodes are reused once a file is deleted (a rotated file compressed):
                    // the same number is the same file only with the same first bytes.
                    FileChannel ch = FileChannel.open(c, StandardOpenOption.READ);
                    if (ch.size() >= from.resume() && matches(ch, from.head())) {
                        return new LogFile(path, new FileContent(ch), from.inode(),
                                from.resume(), from.head(), true);
                    }
                    ch.close();
                }
            }
        }
        if (!from.head().known()) {
            return null;
        }
        for (Path c : candidates) {
            if (c.toString().endsWith(".gz")) {
                try (InputStream in = GzipContent.open(c)) {
                    byte[] head = in.readNBytes(from.head().length());
                    if (head.length == from.head().length() && crc(head) == from.head().crc()) {
                        return new LogFile(path, new GzipContent(c), from.inode(), from.resume(),
                                from.head(), true);
                    }
                } catch (IOException unreadable) {
                    // not the one, or damaged: look on
                }
            } else {
                FileChannel ch = FileChannel.open(c, StandardOpenOption.READ);
                if (ch.size() >= from.resume() && matches(ch, from.head())) {
                    return new LogFile(path, new FileContent(ch), from.inode(), from.resume(),
                            from.head(), true);
                }
                ch.close();
            }
        }
        return null;
    }

    /** Files beside {@code path} named after it ({@code NAME.…}, {@code NAME-…}), newest first. */
    private static List<Path> siblings(Path path) throws IOException {
        String name = path.getFileName().toString();
        Path dir = path.toAbsolutePath().getParent();
        List<Path> found = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String n = f.getFileName().toString();
                if (n.length() > name.length() + 1 && n.startsWith(name)
                        && (n.charAt(name.length()) == '.' || n.charAt(name.length()) == '-')
                        && Files.isRegularFile(f)) {
                    found.add(f);
                }
            }
        }
        found.sort(Comparator.comparing(LogFile::modified).reversed());
        return found.size() > MAX_CANDIDATES ? found.subList(0, MAX_CANDIDATES) : found;
    }

    private static FileTime modified(Path p) {
        try {
            return Files.getLastModifiedTime(p);
        } catch (IOException e) {
            return FileTime.fromMillis(0);
        }
    }

    private static long inodeOrZero(Path p) {
        try {
            return inode(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static boolean matches(FileChannel ch, LogPosition.Head head) throws IOException {
        if (!head.known()) {
            return true;
        }
        if (ch.size() < head.length()) {
            return false;
        }
        return crc(readHead(ch, head.length())) == head.crc();
    }

    private static byte[] readHead(FileChannel ch, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        while (b.hasRemaining()) {
            if (ch.read(b, b.position()) < 0) {
                break;
            }
        }
        byte[] bytes = new byte[b.position()];
        b.flip().get(bytes);
        return bytes;
    }

    private static long crc(byte[] bytes) {
        CRC32 c = new CRC32();
        c.update(bytes);
        return c.getValue();
    }

    /** The identity of what is being read (see {@link LogPosition#inode()}). */
    long inode() {
        return inode;
    }

    /** Whether reading went on from the position given to {@link #open}. */
    boolean resumed() {
        return resumed;
    }

    /**
     * How many times reading started again from the start of another file (or of the same
     * one, truncated): offsets of lines from before are not comparable with those after.
     */
    long generation() {
        return generation;
    }

    /** Where the file read before the current one ended, or null if there was none. */
    Ended ended() {
        return ended;
    }

    /** Lines too long to be a log line, skipped since opening. */
    long skipped() {
        return skipped;
    }

    /** The offset after the last line returned. */
    long offset() {
        return offset;
    }

    /** The fingerprint of what is being read, for the position saved with {@link #offset()}. */
    LogPosition.Head head() throws IOException {
        if (drainingHead != null) {
            return drainingHead;
        }
        FileChannel ch = ((FileContent) content).channel();
        int length = (int) Math.min(LogPosition.Head.MAX, ch.size());
        byte[] bytes = readHead(ch, length);
        liveHead = bytes.length == 0 ? LogPosition.Head.NONE
                : new LogPosition.Head(bytes.length, crc(bytes));
        return liveHead;
    }

    /**
     * The next complete line, or null if there is none yet. At the end of a rotated copy, or
     * of a file that has been replaced at the path, moves on to the file at the path from its
     * start (see {@link #generation()}).
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
            long now;
            try {
                now = inode(path);
            } catch (NoSuchFileException e) {
                return null; // between rename and create: try again later
            }
            if (drainingHead != null || now != inode) {
                if (drainingHead == null && fill() > 0) {
                    continue; // written just before the switch
                }
                if (ended != null) {
                    ended.close();
                }
                ended = new Ended(inode, offset, head(), content);
                switchTo(new FileContent(FileChannel.open(path, StandardOpenOption.READ)), now);
                continue;
            }
            FileChannel ch = ((FileContent) content).channel();
            if (ch.size() < offset) {
                // copytruncate: what came after our offset, before the truncation, is in the
                // copy, if it is still uncompressed beside us.
                LogFile copy = liveHead.known() ? rotated(path,
                        new LogPosition(inode, offset, offset, liveHead), true) : null;
                if (copy != null) {
                    content.close();
                    content = copy.content;
                    drainingHead = liveHead;
                    reset(offset);
                    continue;
                }
                if (ended != null) {
                    ended.close();
                }
                ended = new Ended(inode, offset, liveHead, null); // its bytes are gone
                reset(0);
                generation++;
                continue;
            }
            return null;
        }
    }

    /** Goes on with {@code next}; the current content stays open in {@link #ended}. */
    private void switchTo(Content next, long nextInode) {
        content = next;
        inode = nextInode;
        drainingHead = null;
        liveHead = LogPosition.Head.NONE;
        reset(0);
        generation++;
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
            skipped++;
            reset(skipTo);
            return 1;
        }
        int n = content.read(buffer, bufferStart + buffer.position());
        buffer.flip();
        return Math.max(n, 0);
    }

    private long skipLongLine() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8192);
        long at = bufferStart + buffer.capacity();
        while (true) {
            b.clear();
            int n = content.read(b, at);
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
        content.close();
        if (ended != null) {
            ended.close();
        }
    }
}
