package org.postern.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Postern in a child JVM: {@code org.postern.cli.PosternCommand} with the test classpath, or the
 * packaged {@code java -jar target/postern.jar} as an operator runs it ({@link #startJar}): the
 * daemon (killable with SIGKILL), or one {@code -bs}/{@code -bS} run fed from a byte array. The
 * child's stdout and stderr go to files in the test's temporary directory.
 */
public final class ChildPostern implements AutoCloseable {
  private static final AtomicInteger RUNS = new AtomicInteger();
  private static final String MAIN = "org.postern.cli.PosternCommand";
  private static String classPath;

  private final Process process;
  private final Path stdout;
  private final Path stderr;
  /** Started under a wrapper (strace): the JVM is the wrapper's child. */
  private boolean wrapped;
  private Thread feeder;
  /** Marker for {@link #start}: stdin is a pipe left open. */
  private static final Path PIPE = Path.of("<pipe>");

  private ChildPostern(Process process, Path stdout, Path stderr) {
    this.process = process;
    this.stdout = stdout;
    this.stderr = stderr;
  }

  /** The java launcher of this JVM. */
  public static String javaBinary() {
    return ProcessHandle.current().info().command()
        .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
  }

  /**
   * The test classpath with its directories (target/classes, target/test-classes) copied once per
   * test JVM: other builds in the same tree may recompile those directories while a child runs.
   */
  public static synchronized String classPath() throws IOException {
    if (classPath == null) {
      Path snapshot = Files.createTempDirectory("postern-child-cp");
      List<String> entries = new ArrayList<>();
      boolean hasMain = false;
      int i = 0;
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        Path p = Path.of(entry);
        if (Files.isDirectory(p)) {
          Path copy = snapshot.resolve(i++ + "-" + p.getFileName());
          copyTree(p, copy);
          hasMain |= Files.exists(copy.resolve(MAIN.replace('.', '/') + ".class"));
          entries.add(copy.toString());
        } else {
          entries.add(entry);
        }
      }
      if (!hasMain) {
        deleteTree(snapshot);
        throw new IllegalStateException(MAIN + " not found in the class directories of " + entries
            + " (a concurrent build cleaned them?)");
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(snapshot)));
      classPath = String.join(java.io.File.pathSeparator, entries);
    }
    return classPath;
  }

  private static void copyTree(Path from, Path to) throws IOException {
    try (var walk = Files.walk(from)) {
      for (Path src : (Iterable<Path>) walk::iterator) {
        Path dst = to.resolve(from.relativize(src).toString());
        if (Files.isDirectory(src)) {
          Files.createDirectories(dst);
        } else {
          try {
            Files.copy(src, dst);
          } catch (java.nio.file.NoSuchFileException vanished) {
            // Deleted by a concurrent build between listing and copying: our JVM has its classes.
          }
        }
      }
    }
  }

  private static void deleteTree(Path root) {
    try (var walk = Files.walk(root)) {
      walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // Temporary files only.
    }
  }

  /** A loopback port that was free a moment ago. */
  public static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    }
  }

  /** Starts {@code PosternCommand -C config args...}; stdin is taken from {@code stdin} (a file), empty when null. */
  public static ChildPostern start(Path root, Path config, Path stdin, String... args) throws IOException {
    return launch(root, List.of("-cp", classPath(), MAIN), Path.of("").toAbsolutePath(), config, stdin, args);
  }

  /**
   * Starts Postern as an operator does, {@code java -jar jar -C config args...}, in {@code root}
   * (where it finds {@code verticles.json}); stdin as for {@link #start}.
   */
  public static ChildPostern startJar(Path root, Path jar, Path config, Path stdin, String... args) throws IOException {
    return launch(root, List.of("-jar", jar.toAbsolutePath().toString()), root, config, stdin, args);
  }

  /** As {@link #daemon(Path, Path, int, String...)}, started by {@link #startJar}. */
  public static ChildPostern daemonJar(Path root, Path jar, Path config, int port, String... args) throws Exception {
    return listening(startJar(root, jar, config, null, args), port);
  }

  /** As {@link #run(Path, Path, byte[], String...)}, started by {@link #startJar}. */
  public static Result runJar(Path root, Path jar, Path config, byte[] input, String... args) throws Exception {
    Path in = root.resolve("stdin-" + RUNS.get() + "-" + System.nanoTime());
    Files.write(in, input == null ? new byte[0] : input);
    try (ChildPostern child = startJar(root, jar, config, in, args)) {
      return child.result();
    }
  }

  /**
   * Starts the daemon under {@code strace -f}, recording the {@code syscalls} (strace's
   * {@code -e trace=} list) of every thread with paths for descriptors ({@code -y}), entry times
   * ({@code -ttt}) and durations ({@code -T}) into {@code trace}, and waits until it listens. The
   * order of what the kernel was asked to do is then a fact a test can check (fsync before reply).
   */
  public static ChildPostern daemonTraced(Path root, Path config, int port, Path trace, String syscalls)
      throws Exception {
    List<String> strace = List.of("strace", "-f", "-qq", "--seccomp-bpf", "-y", "-ttt", "-T", "-s", "200",
        "-e", "trace=" + syscalls, "-o", trace.toString());
    return listening(launch(root, strace, List.of("-cp", classPath(), MAIN), Path.of("").toAbsolutePath(), config,
        null), port);
  }

  private static ChildPostern launch(Path root, List<String> launcher, Path directory, Path config, Path stdin,
                                     String... args) throws IOException {
    return launch(root, List.of(), launcher, directory, config, stdin, args);
  }

  private static ChildPostern launch(Path root, List<String> wrapper, List<String> launcher, Path directory,
                                     Path config, Path stdin, String... args) throws IOException {
    int run = RUNS.incrementAndGet();
    Path stdout = root.resolve("child-" + run + ".stdout");
    Path stderr = root.resolve("child-" + run + ".stderr");
    List<String> cmd = new ArrayList<>(wrapper);
    cmd.add(javaBinary());
    cmd.add("-Xmx256m");
    cmd.add("-XX:TieredStopAtLevel=1");
    cmd.add("-Dpostern.log.dir=" + root.resolve("log"));
    cmd.addAll(launcher);
    cmd.add("-C");
    cmd.add(config.toString());
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd)
        .directory(directory.toFile())
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
    if (stdin != null && stdin != PIPE) {
      pb.redirectInput(stdin.toFile());
    } else {
      pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    }
    Process p = pb.start();
    if (stdin == null) {
      p.getOutputStream().close();
    }
    ChildPostern child = new ChildPostern(p, stdout, stderr);
    child.wrapped = !wrapper.isEmpty();
    return child;
  }

  /** Starts the daemon and waits (max 30 s) until {@code port} accepts connections. */
  public static ChildPostern daemon(Path root, Path config, int port) throws Exception {
    return daemon(root, config, port, new String[0]);
  }

  /** As {@link #daemon(Path, Path, int)}, with more command-line arguments (e.g. {@code --verticles FILE}). */
  public static ChildPostern daemon(Path root, Path config, int port, String... args) throws Exception {
    return listening(start(root, config, null, args), port);
  }

  /** Waits (max 30 s) until the child accepts connections on {@code port}. */
  private static ChildPostern listening(ChildPostern child, int port) throws Exception {
    boolean listening = Await.holdsWithin(30_000, () -> !child.process.isAlive() || accepts(port));
    if (!child.process.isAlive()) {
      throw new AssertionError("daemon exited with " + child.process.exitValue() + " before listening on "
          + port + "\n" + child.diagnostics());
    }
    if (!listening) {
      child.kill();
      throw new AssertionError("daemon not listening on " + port + " after 30 s\n" + child.diagnostics());
    }
    return child;
  }

  /** True when something accepts TCP connections on 127.0.0.1:{@code port} now. */
  static boolean accepts(int port) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException notYet) {
      return false;
    }
  }

  /** The result of a run that ended by itself. */
  public record Result(int exit, String stdout, String stderr) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout ---\n" + stdout + "\n--- stderr ---\n" + stderr;
    }
  }

  /** Runs {@code PosternCommand -C config args...} with {@code input} on stdin and waits (max 60 s). */
  public static Result run(Path root, Path config, byte[] input, String... args) throws Exception {
    Path in = root.resolve("stdin-" + RUNS.get() + "-" + System.nanoTime());
    Files.write(in, input == null ? new byte[0] : input);
    try (ChildPostern child = start(root, config, in, args)) {
      if (!child.process.waitFor(60, TimeUnit.SECONDS)) {
        child.kill();
        throw new AssertionError("postern " + String.join(" ", args) + " did not end within 60 s\n"
            + child.diagnostics());
      }
      return new Result(child.process.exitValue(), child.stdout(), child.stderr());
    }
  }

  public static Result run(Path root, Path config, String input, String... args) throws Exception {
    return run(root, config, input.getBytes(StandardCharsets.UTF_8), args);
  }

  /**
   * Starts {@code PosternCommand -C config args...} with {@code input} written to a pipe that stays
   * open: the child sees the end of its input only at {@link #closeStdin()}.
   */
  public static ChildPostern startFed(Path root, Path config, byte[] input, String... args) throws IOException {
    ChildPostern child = start(root, config, PIPE, args);
    Thread writer = new Thread(() -> {
      try {
        child.process.getOutputStream().write(input);
        child.process.getOutputStream().flush();
      } catch (IOException e) {
        // The child stopped reading (it ended): what it did not read does not matter.
      }
    }, "stdin-feeder-" + child.process.pid());
    writer.setDaemon(true);
    writer.start();
    child.feeder = writer;
    return child;
  }

  /** Ends the child's input (after what was fed has been written). */
  public void closeStdin() throws InterruptedException {
    if (feeder != null) {
      feeder.join(30_000);
    }
    try {
      process.getOutputStream().close();
    } catch (IOException ignored) {
      // Already gone.
    }
  }

  /** True when the child ended within {@code millis}. */
  public boolean waitFor(long millis) throws InterruptedException {
    return process.waitFor(millis, TimeUnit.MILLISECONDS);
  }

  /** Waits (max 60 s) for the child to end and returns what it did; kills it on timeout. */
  public Result result() throws InterruptedException {
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      String d = diagnostics();
      kill();
      throw new AssertionError("child did not end within 60 s\n" + d);
    }
    return new Result(process.exitValue(), stdout(), stderr());
  }

  public Process process() {
    return process;
  }

  /**
   * SIGKILL, and waits until the process is gone. Under a wrapper, the JVM is killed and the wrapper
   * left to end by itself: strace killed first would detach the JVM and leave it running, and
   * killed at all would lose the end of its record.
   */
  public void kill() throws InterruptedException {
    if (wrapped) {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.waitFor(30, TimeUnit.SECONDS);
    }
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public String stdout() {
    return read(stdout);
  }

  public String stderr() {
    return read(stderr);
  }

  /** Exit state and the tail of stderr, for failure messages. */
  public String diagnostics() {
    String err = stderr();
    if (err.length() > 20_000) {
      err = "...\n" + err.substring(err.length() - 20_000);
    }
    return "[child " + process.pid() + (process.isAlive() ? " running" : " exit " + process.exitValue())
        + "; stderr " + stderr + "]\n" + err;
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
