package org.tlspolicy.cli;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/**
 * What went wrong, in the operator's words rather than Java's, for both programs' command
 * lines: a file exception's message is only its path, and an exception without a message
 * would otherwise be shown by its class name.
 */
public final class ErrorWords {

    private ErrorWords() {
    }

    public static String of(Throwable e) {
        if (e instanceof NoSuchFileException f) {
            return f.getFile() + ": no such file or directory";
        }
        if (e instanceof AccessDeniedException f) {
            return f.getFile() + ": permission denied";
        }
        if (e instanceof FileSystemException f) {
            return f.getFile() + ": " + (f.getReason() == null ? "cannot be used" : f.getReason());
        }
        if (e.getMessage() == null || e.getMessage().isBlank()) {
            return e.getCause() != null ? of(e.getCause()) : "failed (no reason given)";
        }
        return e.getMessage();
    }
}
