/**
 * Spring Boot auto-configuration of Bloodbank (since 0.2.0).
 *
 * <p>Add {@code dev.bloodbank:bloodbank-spring-boot-starter} and the application context gets a
 * {@link dev.bloodbank.Bloodbank} built from the {@code bloodbank.*} properties ({@link
 * dev.bloodbank.spring.boot.BloodbankProperties}) on top of the environment variables the SDK reads
 * ({@link dev.bloodbank.BloodbankOptions#fromEnvironment()}), its shared {@link
 * dev.bloodbank.Publisher}, its {@link dev.bloodbank.registry.EventRegistry} and, when causation is
 * tracked, its {@link dev.bloodbank.correlation.CorrelationTracker}. Methods annotated with {@link
 * dev.bloodbank.spring.boot.BloodbankListener} become subscribers once the context is refreshed,
 * and are drained first when it closes. With Actuator, a {@code bloodbank} health indicator and the
 * bus's Micrometer meters join the application's. Works on Spring Boot 3.5 and 4.0.
 */
@NullMarked
package dev.bloodbank.spring.boot;

import org.jspecify.annotations.NullMarked;
