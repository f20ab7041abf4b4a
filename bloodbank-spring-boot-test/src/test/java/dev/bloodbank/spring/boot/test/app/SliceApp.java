package dev.bloodbank.spring.boot.test.app;

import org.springframework.boot.autoconfigure.SpringBootApplication;

/** An application whose component scan the slice filters. */
@SpringBootApplication
public class SliceApp {}
