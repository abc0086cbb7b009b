package rlcd4j.util;

/**
 * The one error type users see for bad input: a message that names the file, line or field and what was expected.
 * Unchecked, so notebook cells and JShell one-liners need no try/catch.
 */
public class RlcdException extends RuntimeException {
    public RlcdException(String message) {
        super(message);
    }

    public RlcdException(String message, Throwable cause) {
        super(message, cause);
    }

    /** "FILE:LINE: message", the form compilers use, so editors and terminals link it. */
    public static RlcdException at(Object file, long line, String message) {
        return new RlcdException(file + ":" + line + ": " + message);
    }
}
