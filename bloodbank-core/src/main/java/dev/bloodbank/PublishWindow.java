package dev.bloodbank;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/** The bound on sends in progress; a permit is held from publish until the final outcome. */
final class PublishWindow {
  private final Semaphore permits;
  private final int size;

  PublishWindow(int size) {
    this.size = size;
    this.permits = new Semaphore(size);
  }

  boolean acquire(long timeoutNanos) throws InterruptedException {
    return permits.tryAcquire(timeoutNanos, TimeUnit.NANOSECONDS);
  }

  boolean tryAcquire() {
    return permits.tryAcquire();
  }

  void release() {
    permits.release();
  }

  int inFlight() {
    return size - permits.availablePermits();
  }

  boolean awaitDrained(long timeoutNanos) throws InterruptedException {
    if (permits.tryAcquire(size, timeoutNanos, TimeUnit.NANOSECONDS)) {
      permits.release(size);
      return true;
    }
    return false;
  }
}
