package dev.bloodbank.spring.boot.test;

import java.util.List;
import org.jspecify.annotations.Nullable;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.annotation.MergedAnnotations;
import org.springframework.test.context.ContextConfigurationAttributes;
import org.springframework.test.context.ContextCustomizer;
import org.springframework.test.context.ContextCustomizerFactory;
import org.springframework.test.context.MergedContextConfiguration;

/**
 * Registers the slice's {@link SliceTypeExcludeFilter} for test classes annotated with {@link
 * BloodbankSliceTest}. Boot's own mechanism for this ({@code @TypeExcludeFilters}) changed package
 * between Boot 3.5 and 4; this one uses only Spring Framework's test API and Boot's {@code
 * TypeExcludeFilter}, the same on both.
 */
final class SliceContextCustomizerFactory implements ContextCustomizerFactory {
  private static final String BEAN = SliceTypeExcludeFilter.class.getName();

  @Override
  public @Nullable ContextCustomizer createContextCustomizer(
      Class<?> testClass, List<ContextConfigurationAttributes> configAttributes) {
    boolean slice =
        MergedAnnotations.search(MergedAnnotations.SearchStrategy.TYPE_HIERARCHY)
            .withEnclosingClasses(c -> true)
            .from(testClass)
            .isPresent(BloodbankSliceTest.class);
    return slice ? new Customizer() : null;
  }

  private static final class Customizer implements ContextCustomizer {
    @Override
    public void customizeContext(
        ConfigurableApplicationContext context, MergedContextConfiguration config) {
      if (!context.getBeanFactory().containsSingleton(BEAN)) {
        context.getBeanFactory().registerSingleton(BEAN, new SliceTypeExcludeFilter());
      }
    }

    @Override
    public boolean equals(Object other) {
      return other != null && other.getClass() == getClass();
    }

    @Override
    public int hashCode() {
      return Customizer.class.hashCode();
    }
  }
}
