package rlcd4j.data;

/** An input line a lenient reader skipped, and why; prints as "FILE:LINE: message". */
public record BadLine(String file, long line, String message) {
    @Override
    public String toString() {
        return file + ":" + line + ": " + message;
    }
}
