package rlcd4j.serve;

import com.google.gson.JsonObject;

/** An error answered in OpenAI's shape: {@code {"error": {"message", "type", "param", "code"}}} with an HTTP status. */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError badRequest(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null);
    }

    JsonObject toJson() {
        JsonObject e = new JsonObject();
        e.addProperty("message", getMessage());
        e.addProperty("type", type);
        e.addProperty("param", param);
        e.addProperty("code", code);
        JsonObject o = new JsonObject();
        o.add("error", e);
        return o;
    }
}
