package dev.understudy.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The class data archive local-cluster agents start with (the suite turns it on): made once, and valid. */
class ClassDataArchiveTest {
  @Test
  void theArchiveMapsForTheJarredClasspath() throws Exception {
    String cp = System.getProperty("java.class.path");
    String was = System.getProperty(ClassDataArchive.PROPERTY);
    System.setProperty(ClassDataArchive.PROPERTY, "true");
    try {
      var launch = ClassDataArchive.forClasspath(cp);
      assertThat(launch.options()).singleElement().asString().startsWith("-XX:SharedArchiveFile=");
      for (String e : launch.classpath().split(File.pathSeparator)) {
        assertThat(Files.isDirectory(Path.of(e))).as("%s: Java 17 archives classes from jars only", e).isFalse();
      }
      // -Xshare:on refuses to start at all when the archive cannot be mapped for this classpath and JVM
      List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"), "-Xshare:on"));
      cmd.addAll(launch.options());
      cmd.addAll(List.of("-cp", launch.classpath(), Main.class.getName(), "--version"));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(p.exitValue()).as(out).isZero();
      assertThat(out).contains("understudy ");
      assertThat(ClassDataArchive.forClasspath(cp)).as("made once per classpath").isSameAs(launch);
    } finally {
      if (was == null) System.clearProperty(ClassDataArchive.PROPERTY); else System.setProperty(ClassDataArchive.PROPERTY, was);
    }
  }

  @Test
  void withoutThePropertyAgentsStartAsBefore() {
    String was = System.getProperty(ClassDataArchive.PROPERTY);
    System.clearProperty(ClassDataArchive.PROPERTY);
    try {
      var launch = ClassDataArchive.forClasspath("/nowhere/a.jar");
      assertThat(launch.classpath()).isEqualTo("/nowhere/a.jar");
      assertThat(launch.options()).isEmpty();
    } finally {
      if (was != null) System.setProperty(ClassDataArchive.PROPERTY, was);
    }
  }
}
