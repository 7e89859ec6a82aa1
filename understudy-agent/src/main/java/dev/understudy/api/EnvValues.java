package dev.understudy.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.understudy.model.App;
import dev.understudy.store.Json;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;

/**
 * The values of apps' environment variables, which often hold passwords: only a request with the cluster (operator)
 * token sees them. Readers (the read-only token, an open read) and every event see the variables' names only.
 */
final class EnvValues {
  private static final String OPERATOR = "understudy.operator";

  private EnvValues() {}

  /** Marks a request that presented the cluster token. */
  static void markOperator(Context ctx) { ctx.attribute(OPERATOR, Boolean.TRUE); }

  /** Whether this request presented the cluster token. */
  static boolean isOperator(Context ctx) { return Boolean.TRUE.equals(ctx.attribute(OPERATOR)); }

  /** {@code view} as this request may see it. */
  static Object forScope(Context ctx, Object view) {
    if (Boolean.TRUE.equals(ctx.attribute(OPERATOR))) return view;
    JsonNode n = Json.MAPPER.valueToTree(view);
    hide(n);
    return n;
  }

  /** The app's JSON with its env values replaced (what audit events record). */
  static String hidden(App a) {
    JsonNode n = Json.MAPPER.valueToTree(a);
    hide(n);
    return n.toString();
  }

  /** Replaces the value of every {@code command.env} variable anywhere in {@code n} by "(set)". */
  static void hide(JsonNode n) {
    if (n == null) return;
    if (n.path("command").path("env") instanceof ObjectNode env) {
      List<String> names = new ArrayList<>();
      env.fieldNames().forEachRemaining(names::add);
      for (String k : names) env.put(k, "(set)");
    }
    if (n.isContainerNode()) n.forEach(EnvValues::hide);
  }
}
