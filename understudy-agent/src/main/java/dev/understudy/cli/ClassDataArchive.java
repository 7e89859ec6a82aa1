package dev.understudy.cli;

import dev.understudy.agent.AgentConfig;
import dev.understudy.tls.ClusterCa;
import dev.understudy.tls.TlsFiles;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Class data sharing for the agents a local cluster starts, when {@code understudy.agent.cds} is true (the test suite
 * sets it): an agent JVM loads some 7,000 classes from jars at start, 3 s of a core; mapped from an archive it is up
 * in 1.5-1.9 s, and stops in half the time. Java 17 archives classes from jars only, so the classpath's directories
 * (a build's target/classes) are packed into jars first. One training agent per classpath, a single-server cluster
 * in a scratch directory, starts and stops; its JVM writes the archive at exit. The archive is keyed by the JVM and
 * by every classpath entry's size and time, so a rebuilt class never meets a stale archive. Any failure leaves agents
 * started as before, without it.
 */
final class ClassDataArchive {
  private static final Logger log = LoggerFactory.getLogger(ClassDataArchive.class);
  static final String PROPERTY = "understudy.agent.cds";
  private static final Map<String, Launch> made = new ConcurrentHashMap<>();

  /** The classpath to start an agent with, and the JVM options that map the archive (none without one). */
  record Launch(String classpath, List<String> options) {}

  private ClassDataArchive() {}

  static Launch forClasspath(String classpath) {
    if (!Boolean.getBoolean(PROPERTY)) return new Launch(classpath, List.of());
    return made.computeIfAbsent(classpath, ClassDataArchive::prepare);
  }

  private static Launch prepare(String classpath) {
    try {
      Path root = Path.of(System.getProperty("java.io.tmpdir"), "understudy-cds");
      Path dir = root.resolve(key(classpath));
      Files.createDirectories(dir);
      pruneOthers(root, dir);
      try (FileChannel lock = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
           var held = lock.lock()) {
        String jarred = jarDirectories(classpath, dir);
        Path archive = dir.resolve("agent.jsa");
        if (!Files.isRegularFile(archive)) train(jarred, dir, archive);
        return new Launch(jarred, List.of("-XX:SharedArchiveFile=" + archive));
      }
    } catch (IOException | RuntimeException e) {
      log.warn("agents start without a class data archive: {}", e.toString());
      return new Launch(classpath, List.of());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Launch(classpath, List.of());
    }
  }

  private static String key(String classpath) throws IOException {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update((System.getProperty("java.vm.version") + "\n" + classpath).getBytes(StandardCharsets.UTF_8));
      for (String e : classpath.split(File.pathSeparator)) {
        Path p = Path.of(e);
        try (Stream<Path> s = Files.walk(p)) { // a jar, or every file of a directory
          for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile).sorted()::iterator) {
            d.update((f + " " + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis() + "\n").getBytes(StandardCharsets.UTF_8));
          }
        } catch (java.nio.file.NoSuchFileException missing) {
          // an entry that does not exist adds nothing to the classpath
        }
      }
      return HexFormat.of().formatHex(d.digest(), 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The classpath with each directory replaced by a jar of it (made once, in {@code dir}). */
  private static String jarDirectories(String classpath, Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    int n = 0;
    for (String e : classpath.split(File.pathSeparator)) {
      Path p = Path.of(e);
      if (!Files.isDirectory(p)) {
        out.add(e);
        continue;
      }
      Path jar = dir.resolve("dir-" + (n++) + ".jar");
      if (!Files.isRegularFile(jar)) {
        Path tmp = dir.resolve(jar.getFileName() + ".tmp");
        try (OutputStream os = Files.newOutputStream(tmp); JarOutputStream jos = new JarOutputStream(os);
             Stream<Path> s = Files.walk(p)) {
          // directories get entries too: a resource directory (the console's) must exist in the jar
          for (Path f : (Iterable<Path>) s.filter(f -> !f.equals(p)).sorted()::iterator) {
            String name = p.relativize(f).toString().replace(File.separatorChar, '/');
            boolean isDir = Files.isDirectory(f);
            jos.putNextEntry(new JarEntry(isDir ? name + "/" : name));
            if (!isDir) Files.copy(f, jos);
            jos.closeEntry();
          }
        }
        Files.move(tmp, jar, StandardCopyOption.ATOMIC_MOVE);
      }
      out.add(jar.toString());
    }
    return String.join(File.pathSeparator, out);
  }

  /** Starts a single-server agent with the archive written at its exit, waits until it is up, and stops it. */
  private static void train(String classpath, Path dir, Path archive) throws IOException, InterruptedException {
    Path work = dir.resolve("train");
    LocalCluster.deleteTree(work);
    String address = "127.0.0.250";
    int base = freeTriple(address);
    ClusterCa ca = ClusterCa.init(work.resolve("tls"), "cds");
    TlsFiles tls = ca.issue("t1", List.of(address), ClusterCa.SERVER_VALIDITY);
    AgentConfig c = new AgentConfig("t1", address, work.resolve("data").toString(),
        new AgentConfig.Cluster("cds", "0123456789abcdef0123", "0123456789abcdef0123"),
        new AgentConfig.Ports(base, base + 1, base + 2), List.of(new AgentConfig.Peer("t1", address, null, null, null)),
        null, null, null, null, null, null, null, null,
        new AgentConfig.TlsConfig(tls.ca().toString(), tls.cert().toString(), tls.key().toString()));
    c.validate();
    c.write(work.resolve("agent.yaml"));
    Path partial = dir.resolve("agent.jsa.partial");
    Files.deleteIfExists(partial);
    Path logFile = work.resolve("agent.log");
    List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java")));
    cmd.addAll(LocalCluster.agentJvmOptions());
    cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + partial, "-cp", classpath, Main.class.getName(), "agent", "--config",
        work.resolve("agent.yaml").toString()));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(logFile.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!Files.readString(logFile).contains("lease held")) {
        if (!p.isAlive() || System.nanoTime() > deadline) throw new IOException("the training agent did not come up; see " + logFile);
        Thread.sleep(100);
      }
      p.destroy(); // SIGTERM: a normal exit, which writes the archive
      if (!p.waitFor(60, TimeUnit.SECONDS)) throw new IOException("the training agent did not stop; see " + logFile);
    } finally {
      p.destroyForcibly();
    }
    if (!Files.isRegularFile(partial) || Files.size(partial) < 1 << 20) {
      throw new IOException("the training agent wrote no archive; see " + logFile);
    }
    Files.move(partial, archive, StandardCopyOption.ATOMIC_MOVE);
    log.info("agents start with the class data archive {} ({} MB)", archive, Files.size(archive) >> 20);
  }

  /** Archives of other builds (50-60 MB each) go once a day has passed without one being made beside them. */
  private static void pruneOthers(Path root, Path keep) throws IOException {
    long dayAgo = System.currentTimeMillis() - TimeUnit.DAYS.toMillis(1);
    try (Stream<Path> s = Files.list(root)) {
      for (Path d : (Iterable<Path>) s::iterator) {
        if (!d.equals(keep) && Files.getLastModifiedTime(d).toMillis() < dayAgo) LocalCluster.deleteTree(d);
      }
    }
  }

  private static int freeTriple(String address) throws IOException {
    for (int attempt = 0; attempt < 20; attempt++) {
      int base;
      try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
        base = s.getLocalPort();
      }
      if (base < 65000) return base;
    }
    throw new IOException("no free ports on " + address);
  }
}
