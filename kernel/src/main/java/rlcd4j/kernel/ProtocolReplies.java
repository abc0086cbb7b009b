package rlcd4j.kernel;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonNull;
import com.google.gson.JsonObject;
import com.google.gson.JsonPrimitive;
import java.lang.reflect.Constructor;
import java.util.List;
import org.dflib.jjava.jupyter.channels.JupyterConnection;
import org.dflib.jjava.jupyter.channels.ShellReplyEnvironment;
import org.dflib.jjava.jupyter.kernel.KernelConnectionProperties;
import org.dflib.jjava.jupyter.kernel.comm.Comm;
import org.dflib.jjava.jupyter.kernel.comm.CommManager;
import org.dflib.jjava.jupyter.messages.Message;
import org.dflib.jjava.jupyter.messages.MessageType;
import org.dflib.jjava.jupyter.messages.request.HistoryRequest;

/**
 * Replies to the requests of Jupyter's messaging spec that jjava-jupyter 1.0-a6 leaves unanswered or answers without
 * {@code status}, so that no client waits for a reply that never comes:
 * <ul>
 *   <li>history_request: tail, range and search over the cells this kernel ran ({@link CellHistory});</li>
 *   <li>comm_info_request: the open comms, with {@code status} and {@code target_name} as the spec spells them;</li>
 *   <li>connect_request (deprecated, still sent by some consoles): the ports;</li>
 *   <li>debug_request: a DAP response saying there is no debugger (kernel_info does not offer one);</li>
 *   <li>create/delete/list_subshell_request (protocol 5.5): an error reply, subshells are not supported.</li>
 * </ul>
 * JJava knows no message types beyond its own list and drops such requests unread, so the missing ones are
 * registered under their spec names with JSON content.
 */
final class ProtocolReplies {
    private ProtocolReplies() {}

    static void install(JupyterConnection connection, CommManager comms, KernelConnectionProperties props) {
        connection.setHandler(MessageType.COMM_INFO_REQUEST, (env, msg) -> {
            env.setBusyDeferIdle();
            reply(
                    env,
                    MessageType.COMM_INFO_REPLY,
                    commInfo(comms, msg.getContent().getTargetName()));
        });
        MessageType<JsonObject> connect = type("connect_request");
        MessageType<JsonObject> connectReply = type("connect_reply");
        connection.setHandler(connect, (env, msg) -> {
            env.setBusyDeferIdle();
            JsonObject c = new JsonObject();
            c.addProperty("status", "ok");
            if (props != null) {
                c.addProperty("shell_port", props.getShellPort());
                c.addProperty("iopub_port", props.getIopubPort());
                c.addProperty("stdin_port", props.getStdinPort());
                c.addProperty("control_port", props.getControlPort());
                c.addProperty("hb_port", props.getHbPort());
            }
            reply(env, connectReply, c);
        });
        MessageType<JsonObject> debug = type("debug_request");
        MessageType<JsonObject> debugReply = type("debug_reply");
        connection.setHandler(debug, (env, msg) -> {
            env.setBusyDeferIdle();
            JsonObject request = msg.getContent() == null ? new JsonObject() : msg.getContent();
            JsonObject c = new JsonObject();
            c.addProperty("type", "response");
            c.add("request_seq", request.has("seq") ? request.get("seq") : JsonNull.INSTANCE);
            c.addProperty("success", false);
            c.add("command", request.has("command") ? request.get("command") : JsonNull.INSTANCE);
            c.addProperty("message", "the rlcd4j kernel has no debugger");
            reply(env, debugReply, c);
        });
        for (String subshell : List.of("create_subshell", "delete_subshell", "list_subshell")) {
            MessageType<JsonObject> replyType = type(subshell + "_reply");
            connection.setHandler(type(subshell + "_request"), (env, msg) -> {
                env.setBusyDeferIdle();
                JsonObject c = new JsonObject();
                c.addProperty("status", "error");
                c.addProperty("ename", "NotImplementedError");
                c.addProperty("evalue", "the rlcd4j kernel does not support subshells");
                c.add("traceback", new JsonArray());
                reply(env, replyType, c);
            });
        }
    }

    static JsonObject commInfo(CommManager comms, String targetName) {
        JsonObject open = new JsonObject();
        for (Comm comm : comms) {
            if (targetName != null && !targetName.equals(comm.getTargetName())) continue;
            JsonObject info = new JsonObject();
            info.addProperty("target_name", comm.getTargetName());
            open.add(comm.getID(), info);
        }
        JsonObject c = new JsonObject();
        c.addProperty("status", "ok");
        c.add("comms", open);
        return c;
    }

    /** The history_reply content: entries [session, cell, input] or, with output, [session, cell, [input, output]]. */
    static JsonObject history(CellHistory history, HistoryRequest request) {
        List<CellHistory.Entry> entries = switch (request.getAccessType()) {
            case TAIL -> history.tail(((HistoryRequest.Tail) request).getMaxReturnLength());
            case RANGE -> {
                HistoryRequest.Range r = (HistoryRequest.Range) request;
                yield history.range(r.getSessionIndex(), r.getStart(), r.getStop());
            }
            case SEARCH -> {
                HistoryRequest.Search s = (HistoryRequest.Search) request;
                yield history.search(s.getPattern(), s.getMaxReturnLength(), s.filterUnique());
            }
        };
        JsonArray list = new JsonArray();
        for (CellHistory.Entry e : entries) {
            JsonArray item = new JsonArray();
            item.add(e.session());
            item.add(e.cell());
            if (request.includeOutput()) {
                JsonArray io = new JsonArray();
                io.add(e.input());
                io.add(e.output() == null ? JsonNull.INSTANCE : (JsonElement) new JsonPrimitive(e.output()));
                item.add(io);
            } else {
                item.add(e.input());
            }
            list.add(item);
        }
        JsonObject c = new JsonObject();
        c.addProperty("status", "ok");
        c.add("history", list);
        return c;
    }

    /** Sends JSON content as a reply of the given type (JJava serializes content by its runtime class). */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static void reply(ShellReplyEnvironment env, MessageType<?> type, JsonObject content) {
        env.reply(new Message(env.getContext(), (MessageType) type, content));
    }

    /** JJava's type of that name, or a new one with JSON content (its constructor is private; it registers the name). */
    @SuppressWarnings("unchecked")
    static MessageType<JsonObject> type(String name) {
        MessageType<?> known = MessageType.getType(name);
        if (known != MessageType.UNKNOWN) return (MessageType<JsonObject>) known;
        try {
            Constructor<MessageType> c = MessageType.class.getDeclaredConstructor(String.class, Class.class);
            c.setAccessible(true);
            return c.newInstance(name, JsonObject.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalStateException(
                    "cannot register the Jupyter message type " + name + " with this jjava-jupyter version: " + e, e);
        }
    }
}
