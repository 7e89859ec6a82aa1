package dev.understudy.run;

import java.io.ByteArrayInputStream;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * What an OCF agent says of itself ({@code AGENT meta-data}): its parameters (which are required) and its actions'
 * advised timeouts. Parsed without fetching anything: the DTD the document names is not loaded.
 */
record OcfMetaData(Map<String, Boolean> parameters, Map<String, Long> timeoutsMs) {

  static OcfMetaData parse(byte[] xml) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setFeature(javax.xml.XMLConstants.FEATURE_SECURE_PROCESSING, true);
    f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
    f.setFeature("http://xml.org/sax/features/external-general-entities", false);
    f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
    f.setExpandEntityReferences(false);
    var doc = f.newDocumentBuilder().parse(new ByteArrayInputStream(xml));
    Map<String, Boolean> params = new LinkedHashMap<>();
    NodeList ps = doc.getElementsByTagName("parameter");
    for (int i = 0; i < ps.getLength(); i++) {
      Element p = (Element) ps.item(i);
      params.put(p.getAttribute("name"), "1".equals(p.getAttribute("required")) || "true".equals(p.getAttribute("required")));
    }
    Map<String, Long> timeouts = new LinkedHashMap<>();
    NodeList as = doc.getElementsByTagName("action");
    for (int i = 0; i < as.getLength(); i++) {
      Element a = (Element) as.item(i);
      duration(a.getAttribute("timeout")).ifPresent(ms -> timeouts.putIfAbsent(a.getAttribute("name"), ms));
    }
    return new OcfMetaData(params, timeouts);
  }

  /** "20s", "2m", "500ms", "20" (seconds), as OCF writes them. */
  static Optional<Long> duration(String s) {
    if (s == null || s.isBlank()) return Optional.empty();
    var m = java.util.regex.Pattern.compile("(\\d+)\\s*(ms|s|m|min|h)?").matcher(s.trim());
    if (!m.matches()) return Optional.empty();
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return Optional.of(switch (unit) {
      case "ms" -> n;
      case "m", "min" -> n * 60_000;
      case "h" -> n * 3_600_000;
      default -> n * 1000;
    });
  }
}
