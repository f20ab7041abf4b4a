package dev.bloodbank.spring.boot.test.app;

import org.springframework.stereotype.Component;

/** Left out by the slice: it would fail the context if it were created. */
@Component
public class NotMessaging {
  NotMessaging() {
    throw new IllegalStateException("the slice must not create NotMessaging");
  }
}
