package dev.understudy.decide;


/** The patent's two-channel rule (FIG. 7A, claims 11-13) plus the lease: pure, tested from a table. */
public final class VerdictRules {
  private VerdictRules() {}

  public static Verdict verdict(boolean lanOk, DiskState disk, boolean leaseExpired, boolean uplinkOk) {
    if (leaseExpired || disk == DiskState.FENCED) return Verdict.DOWN;
    if (!lanOk) return disk == DiskState.ALIVE ? Verdict.SUSPECT : Verdict.DOWN;
    if (!uplinkOk) return Verdict.UNHEALTHY;
    return Verdict.UP;
  }
}
