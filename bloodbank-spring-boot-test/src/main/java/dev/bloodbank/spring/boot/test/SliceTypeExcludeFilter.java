package dev.bloodbank.spring.boot.test;

import dev.bloodbank.command.Invokable;
import dev.bloodbank.spring.boot.BloodbankListener;
import dev.bloodbank.spring.boot.BloodbankOptionsCustomizer;
import java.io.IOException;
import org.springframework.boot.context.TypeExcludeFilter;
import org.springframework.core.type.classreading.MetadataReader;
import org.springframework.core.type.classreading.MetadataReaderFactory;
import org.springframework.util.ClassUtils;

/**
 * Keeps, of the application's component scan, only what takes part in messaging: classes with
 * {@link BloodbankListener} methods, {@link Invokable}s and {@link BloodbankOptionsCustomizer}s.
 * Stateless; equal to every other instance, so that Spring's context cache sees one configuration.
 */
final class SliceTypeExcludeFilter extends TypeExcludeFilter {
  @Override
  public boolean match(MetadataReader reader, MetadataReaderFactory factory) throws IOException {
    if (reader.getAnnotationMetadata().hasAnnotatedMethods(BloodbankListener.class.getName())) {
      return false;
    }
    String name = reader.getClassMetadata().getClassName();
    ClassLoader loader = getClass().getClassLoader();
    try {
      Class<?> type = ClassUtils.forName(name, loader);
      return !(Invokable.class.isAssignableFrom(type)
          || BloodbankOptionsCustomizer.class.isAssignableFrom(type));
    } catch (ClassNotFoundException | LinkageError e) {
      return true;
    }
  }

  @Override
  public boolean equals(Object other) {
    return other != null && other.getClass() == getClass();
  }

  @Override
  public int hashCode() {
    return SliceTypeExcludeFilter.class.hashCode();
  }
}
