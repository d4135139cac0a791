/**
 * CodeBuild images batchship's buildspec runs on: Docker with the buildx plugin (dockerd's own
 * BuildKit). The template offers exactly these, and doctor accepts them. Older curated images
 * (e.g. aws/codebuild/amazonlinux2-x86_64-standard:4.0) lack buildx.
 */
export const SUPPORTED_BUILD_IMAGES = [
  "aws/codebuild/amazonlinux-x86_64-standard:5.0",
  "aws/codebuild/amazonlinux-aarch64-standard:3.0",
  "aws/codebuild/standard:7.0",
] as const;

/** The environment types in which privileged mode, and so Docker, is available. */
export const DOCKER_ENVIRONMENT_TYPES = ["LINUX_CONTAINER", "ARM_CONTAINER", "LINUX_GPU_CONTAINER", "LINUX_EC2", "ARM_EC2"] as const;

/** Source types whose StartBuild `sourceVersion` may be a commit sha. */
export const COMMIT_SOURCE_TYPES = ["GITHUB", "GITHUB_ENTERPRISE", "CODECOMMIT", "BITBUCKET", "GITLAB", "GITLAB_SELF_MANAGED"] as const;
