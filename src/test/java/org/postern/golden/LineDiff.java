package org.postern.golden;

import java.util.ArrayList;
import java.util.List;

/**
 * A unified-diff-like rendering of two line lists (longest common subsequence, whole file as one
 * hunk with context): enough to see at a glance where a golden transcript went wrong.
 */
final class LineDiff {
  private LineDiff() {
  }

  /** Lines prefixed {@code " "}, {@code "-"} (expected only) or {@code "+"} (actual only). */
  static String render(List<String> expected, List<String> actual) {
    int n = expected.size();
    int m = actual.size();
    int[][] lcs = new int[n + 1][m + 1];
    for (int i = n - 1; i >= 0; i--) {
      for (int j = m - 1; j >= 0; j--) {
        lcs[i][j] = expected.get(i).equals(actual.get(j)) ? lcs[i + 1][j + 1] + 1
            : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    List<String> out = new ArrayList<>();
    out.add("--- expected");
    out.add("+++ actual");
    int i = 0;
    int j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && expected.get(i).equals(actual.get(j))) {
        out.add(" " + expected.get(i++));
        j++;
      } else if (i < n && (j == m || lcs[i + 1][j] >= lcs[i][j + 1])) {
        out.add("-" + expected.get(i++));
      } else {
        out.add("+" + actual.get(j++));
      }
    }
    return String.join("\n", out);
  }
}
