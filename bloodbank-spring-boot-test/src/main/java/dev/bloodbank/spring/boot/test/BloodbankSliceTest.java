package dev.bloodbank.spring.boot.test;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.test.autoconfigure.OverrideAutoConfiguration;
import org.springframework.boot.test.context.SpringBootTestContextBootstrapper;
import org.springframework.test.context.BootstrapWith;
import org.springframework.test.context.junit.jupiter.SpringExtension;

/**
 * A Spring Boot test slice for code on Bloodbank: starts only the Bloodbank auto-configuration and
 * the application's components that take part in messaging, on an in-process embedded broker (no
 * RabbitMQ, no Redis).
 *
 * <p>From the application's component scan it keeps the classes with {@link
 * dev.bloodbank.spring.boot.BloodbankListener} methods, the {@link dev.bloodbank.command.Invokable}
 * classes and the {@link dev.bloodbank.spring.boot.BloodbankOptionsCustomizer}s; bring anything
 * else they need with {@code @Import} or {@code @MockitoBean}. The {@code bloodbank.*} properties
 * apply (set more with {@code @TestPropertySource}), except that the bus runs on the embedded
 * broker of a {@link dev.bloodbank.test.TestBus} bean, with an in-memory causation tracker. Inject
 * that {@code TestBus} to publish and to read what was published, consumed and dead-lettered, and
 * assert with {@link
 * dev.bloodbank.test.BloodbankAssertions#assertThat(dev.bloodbank.test.TestBus)}. The context, and
 * so the broker, is shared by test classes with the same configuration, as Spring caches it: assert
 * on events your test published (their ids) rather than on totals.
 *
 * <pre>{@code
 * @BloodbankSliceTest
 * class IndexerTest {
 *   @Autowired TestBus bus;
 *   @Autowired TranscriptIndex index;
 *
 *   @Test
 *   void indexesUploads() { ... }
 * }
 * }</pre>
 *
 * @since 0.2.0
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@Inherited
@BootstrapWith(SpringBootTestContextBootstrapper.class)
@ExtendWith(SpringExtension.class)
@OverrideAutoConfiguration(enabled = false)
@ImportAutoConfiguration
public @interface BloodbankSliceTest {}
