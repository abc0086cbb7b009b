package rlcd4j.kernel;

import java.lang.reflect.Field;
import java.security.GeneralSecurityException;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.JupyterSocket;
import org.dflib.jjava.jupyter.channels.ShellChannel;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.messages.HMACGenerator;
import org.zeromq.ZMQ;

/**
 * JJava's connection with shell and control channels that look for requests every {@link #POLL_MS} ms instead of
 * every 50 ms. JJava's channel loop polls without blocking and then sleeps its interval, so a request waits half the
 * interval on average before it is read, a large part of a trivial cell's round trip (docs/perf/kernel.md). JJava
 * takes the interval as a constructor argument but {@link JupyterConnection} always passes the default, hence the swap
 * here, before the sockets are bound.
 */
final class PromptConnection extends JupyterConnection {
    static final long POLL_MS = 2;

    PromptConnection(KernelConnectionProperties props) throws GeneralSecurityException {
        super(props);
        try {
            ZMQ.Context ctx =
                    (ZMQ.Context) field(JupyterConnection.class, "ctx").get(this);
            HMACGenerator hmac =
                    (HMACGenerator) field(JupyterSocket.class, "hmacGenerator").get(shell);
            replace("shell", new ShellChannel(ctx, hmac, false, this, POLL_MS));
            replace("control", new ShellChannel(ctx, hmac, true, this, POLL_MS));
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Another jjava-jupyter version: keep its channels (correct, only slower to answer).
            System.err.println("rlcd kernel: kept JJava's 50 ms channel polling (" + e + ")");
        }
    }

    private void replace(String name, ShellChannel channel) throws ReflectiveOperationException {
        Field f = field(JupyterConnection.class, name);
        ((ShellChannel) f.get(this)).close();
        f.set(this, channel);
    }

    private static Field field(Class<?> owner, String name) throws NoSuchFieldException {
        Field f = owner.getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }
}
