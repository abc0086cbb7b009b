package rlcd4j.data;

import java.util.Arrays;

/** What became of one prompt of a simulation; written in the pairs JSONL as its lower-case {@link #id()}. */
public enum PairStatus {
    /** Planned, nothing generated yet (a dry run's rows). */
    PLANNED,
    /** A preference pair: the only rows the trainers learn from. */
    OK,
    /** No pair after the retries (post-processing failed). */
    DROPPED,
    /** No pair: bad input (e.g. a prompt longer than the context). */
    ERROR;

    public String id() {
        return name().toLowerCase();
    }

    /** The status written as {@code id}; throws IllegalArgumentException naming the accepted values. */
    public static PairStatus of(String id) {
        for (PairStatus s : values()) if (s.id().equals(id)) return s;
        throw new IllegalArgumentException("field 'status' must be one of "
                + Arrays.stream(values()).map(PairStatus::id).toList() + ", got '" + id + "'");
    }

    @Override
    public String toString() {
        return id();
    }
}
