package dev.bloodbank.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs each test of the annotated class with its own bus on a fresh embedded broker, with the
 * defaults of {@link BloodbankTestExtension}: inject {@link TestBus}, {@link
 * dev.bloodbank.Bloodbank} or {@link dev.bloodbank.embedded.EmbeddedBroker} as test method
 * parameters. For other options register a configured extension instead: {@code @RegisterExtension
 * static BloodbankTestExtension bus = BloodbankTestExtension.builder()...build();}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
@ExtendWith(BloodbankTestExtension.class)
public @interface BloodbankTest {}
