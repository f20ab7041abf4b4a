/**
 * A Spring Boot test slice for applications on Bloodbank (since 0.2.0): {@link
 * dev.bloodbank.spring.boot.test.BloodbankSliceTest} starts the Bloodbank auto-configuration and
 * the application's {@code @BloodbankListener} beans on an embedded broker, with a {@link
 * dev.bloodbank.test.TestBus} to publish and assert with.
 */
@NullMarked
package dev.bloodbank.spring.boot.test;

import org.jspecify.annotations.NullMarked;
