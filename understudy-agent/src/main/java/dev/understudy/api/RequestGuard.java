package dev.understudy.api;

import io.javalin.http.Context;
import java.util.Locale;

/**
 * Checks made before a request is read: a body of unknown length is refused (Javalin would read a chunked body of any
 * size into memory before any handler could look at the token), and a request served without a token must name this
 * agent in its Host header, so a web page that rebinds its own host name to the agent's address reads nothing.
 */
final class RequestGuard {
  private RequestGuard() {}

  static void boundedBody(Context ctx, long max) {
    String te = ctx.header("Transfer-Encoding");
    if (te != null && !te.isBlank() && !te.trim().equalsIgnoreCase("identity")) {
      ctx.header("Connection", "close"); // else the server drains the rest of the body, however long, to reuse the connection
      throw new ApiError(411, "send the body with a Content-Length (at most " + max + " bytes), not Transfer-Encoding: " + te);
    }
    long length = ctx.contentLength();
    if (length > max) ctx.header("Connection", "close");
    if (length > max) throw new ApiError(413, "the body is " + length + " bytes; at most " + max + " are accepted");
  }

  /**
   * For a request served without a token: its Host must be an address literal, {@code localhost} or this agent's
   * configured address. A DNS-rebinding page sends its own domain name as the Host.
   */
  static void hostIsThisAgent(Context ctx, String configuredAddress) {
    String host = hostPart(ctx.header("Host"));
    if (host == null) return; // HTTP/1.0 without Host: no browser sends that
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.equals(configuredAddress.toLowerCase(Locale.ROOT)) || isAddressLiteral(h)) return;
    throw new ApiError(403, "Host \"" + host + "\" is not this agent's address: a request without a token must be sent to "
        + configuredAddress + " (or send the cluster token)");
  }

  static String hostPart(String hostHeader) {
    if (hostHeader == null || hostHeader.isBlank()) return null;
    String h = hostHeader.trim();
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 ? h.substring(1, end) : h;
    }
    int colon = h.lastIndexOf(':');
    return colon >= 0 && h.indexOf(':') == colon ? h.substring(0, colon) : h;
  }

  static boolean isAddressLiteral(String h) {
    if (h.contains(":")) return h.matches("[0-9a-f:.]+"); // IPv6
    return h.matches("(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}");
  }
}
