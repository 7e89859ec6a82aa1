package dev.understudy.model;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class AppValidatorTest {
  static final Set<String> SERVERS = Set.of("s1", "s2", "s3");

  static App base() {
    return App.create("web", AppType.CAPABLE, Command.of("/bin/sleep", "10"), "s1", List.of("s2"), List.of("cpu:1"),
        true, new Service(8080, 9080), Map.of("owner", "ops"));
  }

  @Test
  void aValidAppPasses() {
    assertThatCode(() -> AppValidator.validate(base(), SERVERS)).doesNotThrowAnyException();
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("tag", (UnaryOperator<App>) a -> App.create("bad tag!", a.type(), a.command(), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("tag", (UnaryOperator<App>) a -> App.create("x".repeat(65), a.type(), a.command(), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("type", (UnaryOperator<App>) a -> App.create("web", null, a.command(), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.argv", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of(), null, null, null, null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("primary", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s9", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("backups", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of(), List.of(), false, null, Map.of())),
        Arguments.of("backups", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s1"), List.of(), false, null, Map.of())),
        Arguments.of("backups", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2", "s2"), List.of(), false, null, Map.of())),
        Arguments.of("backups", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("nope"), List.of(), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("gpu:1"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("port:70000"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("path:relative"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("memory:lots"), false, null, Map.of())),
        Arguments.of("service.clusterPort", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of(), false, new Service(0, 1), Map.of())),
        Arguments.of("command.stopTimeoutMs", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("x"), null, null, null, 5L), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        // #21: a NUL passed validation, then threw in every reconcile round of every server the app lists
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("path:/srv/a\0b"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("exec:/bin/x\0"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("exec:/bin/x\n"), false, null, Map.of())),
        Arguments.of("resources", (UnaryOperator<App>) a -> App.create("web", a.type(), a.command(), "s1", List.of("s2"), List.of("path:/" + "a".repeat(5000)), false, null, Map.of())),
        Arguments.of("command.env", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("x"), null, Map.of("K", "v\0"), null, null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.workDir", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("x"), "/tmp/\0", null, null, null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.stopCommand", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("x"), null, null, List.of("kill\0"), null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.user", (UnaryOperator<App>) a -> App.create("web", a.type(), Command.of("x").runAs("root;rm", null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.group", (UnaryOperator<App>) a -> App.create("web", a.type(), Command.of("x").runAs("app", "Bad Group"), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.user", (UnaryOperator<App>) a -> App.create("web", a.type(), Command.of("systemd:nginx.service").runAs("www-data", null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.env", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("systemd:nginx.service"), null, Map.of("K", "v"), null, null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("command.workDir", (UnaryOperator<App>) a -> App.create("web", a.type(), new Command(List.of("systemd:nginx.service"), "/srv", null, null, null), "s1", List.of("s2"), List.of(), false, null, Map.of())),
        Arguments.of("host", (UnaryOperator<App>) a -> a.movedTo("s3", AppState.STARTING, "x")),
        Arguments.of("target", (UnaryOperator<App>) a -> a.withTarget("s3")));
  }

  @ParameterizedTest(name = "{0} #{index}")
  @MethodSource("invalid")
  void invalidAppsAreRefusedNamingTheField(String field, UnaryOperator<App> breaker) {
    assertThatThrownBy(() -> AppValidator.validate(breaker.apply(base()), SERVERS))
        .isInstanceOf(InvalidAppException.class)
        .hasMessageStartingWith(field + ":");
  }

  @Test
  void sizesParse() {
    org.assertj.core.api.Assertions.assertThat(Sizes.parseBytes("512M")).isEqualTo(512L << 20);
    org.assertj.core.api.Assertions.assertThat(Sizes.parseBytes("2GiB")).isEqualTo(2L << 30);
    org.assertj.core.api.Assertions.assertThat(Sizes.parseBytes("100")).isEqualTo(100);
    assertThatThrownBy(() -> Sizes.parseBytes("-1")).isInstanceOf(IllegalArgumentException.class);
  }
}
