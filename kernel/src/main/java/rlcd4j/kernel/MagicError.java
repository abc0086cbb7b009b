package rlcd4j.kernel;

import rlcd4j.util.RlcdException;

/** Bad input to a magic: the notebook shows its message as one line, without a traceback. */
public final class MagicError extends RlcdException {
    MagicError(String message, Throwable cause) {
        super(message, cause);
    }
}
