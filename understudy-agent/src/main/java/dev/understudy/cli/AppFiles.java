package dev.understudy.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.understudy.api.AppSpec;
import dev.understudy.store.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * App definitions in files: YAML (several documents per file, separated by {@code ---}) or JSON, in the shape the
 * REST API takes ({@link AppSpec}). Errors name the file, the line and the field; nothing is sent until every
 * definition read.
 */
final class AppFiles {
  private AppFiles() {}

  /** One definition, and where it was read. */
  record Definition(Path file, int line, AppSpec spec) {
    String where() { return file + " line " + line; }
  }

  /** The fields of a definition, in the API's order: what export writes and apply compares. */
  static final List<String> FIELDS = Arrays.stream(AppSpec.class.getRecordComponents()).map(c -> c.getName()).toList();

  private static final ObjectMapper YAML = YAMLMapper.builder(new YAMLFactory()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES)
          .enable(YAMLGenerator.Feature.ALWAYS_QUOTE_NUMBERS_AS_STRINGS)) // "0755" stays a string, not the number 755
      .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
      .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, true)
      .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true)
      .build();

  /** Every definition in {@code path}: a file, or each {@code .yaml}, {@code .yml} and {@code .json} file of a directory. */
  static List<Definition> read(Path path) {
    List<Path> files = new ArrayList<>();
    if (Files.isDirectory(path)) {
      try (Stream<Path> s = Files.list(path)) {
        s.filter(p -> p.toString().matches(".*\\.(ya?ml|json)$")).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new CliException(2, "cannot list " + path + ": " + e.getMessage());
      }
      if (files.isEmpty()) throw new CliException(2, path + " holds no .yaml, .yml or .json file");
    } else if (Files.isRegularFile(path)) {
      files.add(path);
    } else {
      throw new CliException(2, path + " does not exist");
    }
    List<Definition> out = new ArrayList<>();
    for (Path f : files) out.addAll(readFile(f));
    Map<String, Definition> seen = new HashMap<>();
    for (Definition d : out) {
      Definition before = seen.put(d.spec().tag(), d);
      if (before != null) throw new CliException(2, d.where() + ": app " + d.spec().tag() + " is defined twice (also " + before.where() + ")");
    }
    return out;
  }

  private static List<Definition> readFile(Path f) {
    List<Definition> out = new ArrayList<>();
    int line = 1;
    try (JsonParser p = YAML.getFactory().createParser(f.toFile());
         MappingIterator<AppSpec> it = YAML.readerFor(AppSpec.class).readValues(p)) {
      while (true) {
        AppSpec spec;
        try {
          if (!it.hasNextValue()) break;
          line = p.currentLocation().getLineNr();
          spec = it.nextValue();
        } catch (RuntimeException e) {
          if (e.getCause() instanceof JsonProcessingException jpe) throw invalid(f, line, jpe);
          throw e;
        }
        if (spec == null) continue; // an empty document
        if (spec.tag() == null || spec.tag().isBlank()) throw new CliException(2, f + " line " + line + ": tag is required");
        out.add(new Definition(f, line, spec));
      }
    } catch (JsonProcessingException e) {
      throw invalid(f, line, e);
    } catch (IOException e) {
      throw new CliException(2, "cannot read " + f + ": " + e.getMessage());
    }
    if (out.isEmpty()) throw new CliException(2, f + " holds no app definition");
    return out;
  }

  /**
   * The error, at the line of the field it is about: an app is read whole before its fields are checked, so the
   * parser's own position is often the end of the document ({@code docLine}: where the document starts).
   */
  private static CliException invalid(Path f, int docLine, JsonProcessingException e) {
    JsonLocation at = e.getLocation();
    int line = at != null && at.getLineNr() > 0 ? at.getLineNr() : docLine;
    String field = "";
    if (e instanceof com.fasterxml.jackson.databind.JsonMappingException m && !m.getPath().isEmpty()) {
      field = path(m);
      var last = m.getPath().get(m.getPath().size() - 1);
      if (last.getFieldName() != null) line = lineOf(f, docLine, last.getFieldName(), line);
    }
    String where = f + " line " + line;
    if (e instanceof UnrecognizedPropertyException u) {
      return new CliException(2, where + ": unknown field '" + field + "'; known here: " + u.getKnownPropertyIds());
    }
    return new CliException(2, where + (field.isEmpty() ? "" : " (field " + field + ")") + ": " + e.getOriginalMessage());
  }

  /** The first line from {@code fromLine} on where {@code key} is written as a key; {@code otherwise} if none. */
  private static int lineOf(Path f, int fromLine, String key, int otherwise) {
    java.util.regex.Pattern asKey = java.util.regex.Pattern.compile("(^|[\\s{,-])[\"']?" + java.util.regex.Pattern.quote(key) + "[\"']?\\s*:");
    try {
      List<String> lines = Files.readAllLines(f);
      for (int i = Math.max(0, fromLine - 1); i < lines.size(); i++) if (asKey.matcher(lines.get(i)).find()) return i + 1;
    } catch (IOException e) {
      // the parser's position will do
    }
    return otherwise;
  }

  private static String path(com.fasterxml.jackson.databind.JsonMappingException m) {
    StringBuilder b = new StringBuilder();
    for (var r : m.getPath()) {
      if (r.getFieldName() != null) b.append(b.length() > 0 ? "." : "").append(r.getFieldName());
      else if (r.getIndex() >= 0) b.append('[').append(r.getIndex()).append(']');
    }
    return b.toString();
  }

  /** The definition part of an app as the API shows it (runtime fields such as host, state and epoch dropped). */
  static ObjectNode definitionOf(JsonNode app) {
    ObjectNode d = Json.MAPPER.createObjectNode();
    for (String f : FIELDS) {
      JsonNode v = app.get(f);
      if (v != null && !v.isNull() && !(v.isContainerNode() && v.isEmpty())) d.set(f, v);
    }
    return d;
  }

  /** Definitions as YAML documents, one per app. */
  static String yaml(List<? extends JsonNode> definitions) {
    StringBuilder b = new StringBuilder();
    for (JsonNode d : definitions) {
      if (b.length() > 0) b.append("---\n");
      try {
        b.append(YAML.writeValueAsString(d));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
    return b.toString();
  }

  /** Field by field, what would change from {@code current} to {@code next} (both definitions); empty: nothing. */
  static List<String> diff(JsonNode current, JsonNode next) {
    List<String> out = new ArrayList<>();
    for (String f : FIELDS) {
      JsonNode a = current.get(f);
      JsonNode b = next.get(f);
      if (a == null ? b != null : !a.equals(b)) {
        out.add(f + ": " + (a == null ? "(none)" : compact(a)) + " -> " + (b == null ? "(none)" : compact(b)));
      }
    }
    return out;
  }

  private static String compact(JsonNode n) { return n.isTextual() ? n.asText() : n.toString(); }
}
