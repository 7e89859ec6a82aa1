package dev.understudy.run;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * An app's process started by an earlier life of this agent, adopted after a restart. It is not this JVM's child, so
 * its exit code cannot be read: an exit nobody asked for counts as a crash ({@link #UNKNOWN_EXIT}).
 */
final class AdoptedProcess extends Process {
  /** The exit code reported for an adopted process: not known to anyone but its parent. */
  static final int UNKNOWN_EXIT = -1;

  private final ProcessHandle handle;

  AdoptedProcess(ProcessHandle handle) { this.handle = handle; }

  @Override
  public OutputStream getOutputStream() { return OutputStream.nullOutputStream(); }

  @Override
  public InputStream getInputStream() { return InputStream.nullInputStream(); }

  @Override
  public InputStream getErrorStream() { return InputStream.nullInputStream(); }

  @Override
  public int waitFor() throws InterruptedException {
    try {
      handle.onExit().get();
    } catch (java.util.concurrent.ExecutionException e) {
      // a handle's exit future does not fail
    }
    return UNKNOWN_EXIT;
  }

  @Override
  public boolean waitFor(long timeout, TimeUnit unit) throws InterruptedException {
    try {
      handle.onExit().get(timeout, unit);
      return true;
    } catch (java.util.concurrent.TimeoutException e) {
      return !handle.isAlive();
    } catch (java.util.concurrent.ExecutionException e) {
      return !handle.isAlive();
    }
  }

  @Override
  public int exitValue() {
    if (handle.isAlive()) throw new IllegalThreadStateException("still running");
    return UNKNOWN_EXIT;
  }

  @Override
  public void destroy() { handle.destroy(); }

  @Override
  public Process destroyForcibly() {
    handle.destroyForcibly();
    return this;
  }

  @Override
  public boolean isAlive() { return handle.isAlive(); }

  @Override
  public long pid() { return handle.pid(); }

  @Override
  public ProcessHandle toHandle() { return handle; }

  @Override
  public CompletableFuture<Process> onExit() { return handle.onExit().thenApply(h -> this); }
}
