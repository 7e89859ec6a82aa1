package dev.understudy.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.understudy.model.Inventory;
import java.util.List;
import org.junit.jupiter.api.Test;

class ResourcesTest {
  private static final Inventory INV = new Inventory(2, 1L << 30, List.of("ssd"));

  @Test
  void metAndUnmetRequirementsAreTold() {
    assertThat(Resources.unmet(List.of("exec:/bin/sh", "path:/tmp", "cpu:1", "label:ssd"), INV, "127.0.0.1", false)).isEmpty();
    assertThat(Resources.unmet(List.of("exec:/no/such", "cpu:64", "label:gpu"), INV, "127.0.0.1", false))
        .containsExactly("exec:/no/such", "cpu:64", "label:gpu");
  }

  /**
   * #21: an object holding a NUL in a path (written before validation refused it) threw here, in every reconcile round
   * of every server it listed, and no app got a decision. It is now only unmet.
   */
  @Test
  void anInvalidRequirementIsUnmetNotThrown() {
    List<String> miss = Resources.unmet(List.of("path:/srv/a\0b", "cpu:1"), INV, "127.0.0.1", false);
    assertThat(miss).hasSize(1);
    assertThat(miss.get(0)).startsWith("invalid requirement").contains("\\u0000");
  }
}
