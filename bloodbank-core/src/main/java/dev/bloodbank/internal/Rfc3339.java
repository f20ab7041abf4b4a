package dev.bloodbank.internal;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import org.jspecify.annotations.Nullable;

/**
 * Hand-written parsing and formatting of the date-time shapes that nearly every event carries,
 * {@code 2026-01-27T10:00:00.123456Z} and its {@code +HH:MM} and offset-less variants, because
 * {@link DateTimeFormatter} costs several microseconds per call on the decode path.
 *
 * <p>{@link #parse} is a fast path only: it accepts a strict subset of what {@link
 * DateTimeFormatter#ISO_DATE_TIME} and {@link DateTimeFormatter#ISO_INSTANT} accept, gives the same
 * instant for it, and returns null for everything else (lower-case {@code t} or {@code z}, leap
 * seconds, {@code 24:00}, missing seconds, a fraction without digits, years beyond four digits,
 * region ids, surrounding blanks, ...), which callers then hand to the formatter they used before,
 * so what is accepted and every error message stay as they were.
 */
public final class Rfc3339 {
  private static final int[] DAYS_IN_MONTH = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  private static final long SECONDS_PER_DAY = 86_400;
  private static final long DAYS_0000_TO_1970 = 719_528;
  private static final int MAX_OFFSET_SECONDS = 18 * 3600;

  private Rfc3339() {}

  /**
   * Parses {@code yyyy-MM-ddTHH:mm:ss[.f{1,9}](Z|±HH:MM)}, or without the zone when {@code
   * localIsUtc}.
   *
   * @param s the text
   * @param localIsUtc whether a date-time without a zone is read as UTC (else it is not handled)
   * @return the instant, or null when {@code s} is not one of these shapes or not a valid date-time
   */
  public static @Nullable Instant parse(String s, boolean localIsUtc) {
    int n = s.length();
    if (n < 19
        || s.charAt(4) != '-'
        || s.charAt(7) != '-'
        || s.charAt(10) != 'T'
        || s.charAt(13) != ':'
        || s.charAt(16) != ':') {
      return null;
    }
    int year = digits(s, 0, 4);
    int month = digits(s, 5, 2);
    int day = digits(s, 8, 2);
    int hour = digits(s, 11, 2);
    int minute = digits(s, 14, 2);
    int second = digits(s, 17, 2);
    if (year < 0
        || month < 1
        || month > 12
        || day < 1
        || day > daysInMonth(year, month)
        || hour < 0
        || hour > 23
        || minute < 0
        || minute > 59
        || second < 0
        || second > 59) {
      return null;
    }
    int i = 19;
    int nanos = 0;
    if (i < n && s.charAt(i) == '.') {
      int start = ++i;
      while (i < n && i - start < 10 && isDigit(s.charAt(i))) {
        nanos = nanos * 10 + (s.charAt(i) - '0');
        i++;
      }
      int count = i - start;
      if (count == 0 || count > 9) {
        return null;
      }
      for (int k = count; k < 9; k++) {
        nanos *= 10;
      }
    }
    int offsetSeconds;
    if (i == n) {
      if (!localIsUtc) {
        return null;
      }
      offsetSeconds = 0;
    } else {
      char c = s.charAt(i);
      if (c == 'Z' && i + 1 == n) {
        offsetSeconds = 0;
      } else if ((c == '+' || c == '-') && i + 6 == n && s.charAt(i + 3) == ':') {
        int oh = digits(s, i + 1, 2);
        int om = digits(s, i + 4, 2);
        if (oh < 0 || om < 0 || om > 59) {
          return null;
        }
        offsetSeconds = oh * 3600 + om * 60;
        if (offsetSeconds > MAX_OFFSET_SECONDS) {
          return null;
        }
        if (c == '-') {
          offsetSeconds = -offsetSeconds;
        }
      } else {
        return null;
      }
    }
    long epochSecond =
        epochDay(year, month, day) * SECONDS_PER_DAY
            + hour * 3600L
            + minute * 60L
            + second
            - offsetSeconds;
    return Instant.ofEpochSecond(epochSecond, nanos);
  }

  /**
   * Formats as {@link DateTimeFormatter#ISO_INSTANT} does: UTC, {@code Z}, and the fraction in
   * groups of three digits, none when whole.
   *
   * @param t the instant
   * @return the text, identical to {@code ISO_INSTANT.format(t)}
   */
  public static String format(Instant t) {
    long epochSecond = t.getEpochSecond();
    long epochDay = Math.floorDiv(epochSecond, SECONDS_PER_DAY);
    int secondOfDay = (int) Math.floorMod(epochSecond, SECONDS_PER_DAY);
    // Years 0000 to 9999 only: others are written with a sign or more digits.
    if (epochDay < -DAYS_0000_TO_1970 || epochDay > 2_932_896L) {
      return DateTimeFormatter.ISO_INSTANT.format(t);
    }
    long[] ymd = civil(epochDay);
    int nanos = t.getNano();
    char[] out =
        new char[nanos == 0 ? 20 : nanos % 1_000_000 == 0 ? 24 : nanos % 1000 == 0 ? 27 : 30];
    put(out, 0, (int) ymd[0], 4);
    out[4] = '-';
    put(out, 5, (int) ymd[1], 2);
    out[7] = '-';
    put(out, 8, (int) ymd[2], 2);
    out[10] = 'T';
    put(out, 11, secondOfDay / 3600, 2);
    out[13] = ':';
    put(out, 14, secondOfDay / 60 % 60, 2);
    out[16] = ':';
    put(out, 17, secondOfDay % 60, 2);
    if (nanos != 0) {
      out[19] = '.';
      int width = out.length - 21;
      int value = width == 3 ? nanos / 1_000_000 : width == 6 ? nanos / 1000 : nanos;
      put(out, 20, value, width);
    }
    out[out.length - 1] = 'Z';
    return new String(out);
  }

  private static void put(char[] out, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      out[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** The value of {@code count} ASCII digits at {@code at}, or -1. */
  private static int digits(String s, int at, int count) {
    int v = 0;
    for (int i = at; i < at + count; i++) {
      char c = s.charAt(i);
      if (!isDigit(c)) {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private static int daysInMonth(int year, int month) {
    if (month == 2 && (year & 3) == 0 && (year % 100 != 0 || year % 400 == 0)) {
      return 29;
    }
    return DAYS_IN_MONTH[month - 1];
  }

  /** Days since 1970-01-01 of a proleptic Gregorian date (as {@code LocalDate.toEpochDay}). */
  private static long epochDay(int year, int month, int day) {
    long y = year;
    long m = month;
    long total = 365 * y;
    if (y >= 0) {
      total += (y + 3) / 4 - (y + 99) / 100 + (y + 399) / 400;
    } else {
      total -= y / -4 - y / -100 + y / -400;
    }
    total += (367 * m - 362) / 12;
    total += day - 1;
    if (m > 2) {
      total--;
      if (!((year & 3) == 0 && (year % 100 != 0 || year % 400 == 0))) {
        total--;
      }
    }
    return total - DAYS_0000_TO_1970;
  }

  /** Year, month and day of an epoch day (as {@code LocalDate.ofEpochDay}). */
  private static long[] civil(long epochDay) {
    long zeroDay = epochDay + DAYS_0000_TO_1970 - 60;
    long adjust = 0;
    if (zeroDay < 0) {
      long adjustCycles = (zeroDay + 1) / 146_097 - 1;
      adjust = adjustCycles * 400;
      zeroDay += -adjustCycles * 146_097;
    }
    long yearEst = (400 * zeroDay + 591) / 146_097;
    long doyEst = zeroDay - (365 * yearEst + yearEst / 4 - yearEst / 100 + yearEst / 400);
    if (doyEst < 0) {
      yearEst--;
      doyEst = zeroDay - (365 * yearEst + yearEst / 4 - yearEst / 100 + yearEst / 400);
    }
    yearEst += adjust;
    int marchDoy0 = (int) doyEst;
    int marchMonth0 = (marchDoy0 * 5 + 2) / 153;
    int month = (marchMonth0 + 2) % 12 + 1;
    int dom = marchDoy0 - (marchMonth0 * 306 + 5) / 10 + 1;
    yearEst += marchMonth0 / 10;
    return new long[] {yearEst, month, dom};
  }
}
