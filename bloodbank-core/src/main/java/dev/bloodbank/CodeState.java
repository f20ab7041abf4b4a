package dev.bloodbank;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of the git working copy an agent was working in: {@code agent_context.code_state}.
 *
 * <p>Field names follow the Python services ({@code repo_url}, {@code branch}, {@code
 * last_commit_hash}, {@code working_diff}, {@code branch_diff}); {@code dirty_files} lists paths
 * with uncommitted changes. Every field is optional. Immutable and thread-safe.
 *
 * @param repoUrl the remote URL of the repository, or null
 * @param branch the checked-out branch, or null
 * @param lastCommitHash the commit HEAD points at, or null
 * @param workingDiff the unstaged diff, or null
 * @param branchDiff the diff against the main branch, or null
 * @param dirtyFiles paths with uncommitted changes, empty when clean or unknown
 */
public record CodeState(
    @Nullable String repoUrl,
    @Nullable String branch,
    @Nullable String lastCommitHash,
    @Nullable String workingDiff,
    @Nullable String branchDiff,
    List<String> dirtyFiles) {

  /** Copies the list. */
  public CodeState {
    dirtyFiles = List.copyOf(dirtyFiles);
  }

  /**
   * Returns a snapshot of a clean working copy.
   *
   * @param repoUrl the remote URL of the repository, or null
   * @param branch the checked-out branch, or null
   * @param lastCommitHash the commit HEAD points at, or null
   * @return the snapshot
   */
  public static CodeState of(
      @Nullable String repoUrl, @Nullable String branch, @Nullable String lastCommitHash) {
    return new CodeState(repoUrl, branch, lastCommitHash, null, null, List.of());
  }
}
