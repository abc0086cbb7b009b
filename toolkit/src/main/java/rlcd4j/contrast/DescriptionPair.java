package rlcd4j.contrast;

import java.util.Objects;

/** One contrastive description pair, e.g. {@code (helpful, honest, inoffensive response)} / {@code (unhelpful, ...)}. */
public record DescriptionPair(String positive, String negative) {
    public DescriptionPair {
        Objects.requireNonNull(positive, "positive");
        Objects.requireNonNull(negative, "negative");
    }

    public static DescriptionPair pair(String positive, String negative) {
        return new DescriptionPair(positive, negative);
    }

    public DescriptionPair swapped() {
        return new DescriptionPair(negative, positive);
    }
}
