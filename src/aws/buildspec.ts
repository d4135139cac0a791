/**
 * The build batchship runs in CodeBuild. Every StartBuild sends this text as `buildspecOverride`,
 * so the project's own buildspec (or one in the app repository) never decides how an image is
 * built. `buildspec.yml` at the package root is a copy for reading (`npm run buildspec`).
 *
 * Why it is written the way it is:
 * - The requirements are checked first, with a message that says what to change: Docker reachable
 *   (privileged mode; batchship asks for it with `privilegedModeOverride`) and `docker buildx`.
 * - It builds with dockerd's own BuildKit (the `default` builder): a `docker-container` builder
 *   would pull moby/buildkit from Docker Hub anonymously, and CodeBuild's shared addresses run
 *   into Docker Hub's anonymous pull limit.
 * - The layer cache travels inside the pushed images (`--cache-to type=inline`) and is read back
 *   from the repository's newest image, by digest. No tag is ever rewritten, so the repository
 *   keeps every tag IMMUTABLE; a failed cache lookup only means a build without a cache.
 * - Arrays are expanded as `${a[@]+"${a[@]}"}`, which `set -u` accepts on every bash.
 */
export const BUILDSPEC = `# batchship's build. batchship sends this file with every StartBuild (buildspecOverride), so the
# CodeBuild project's own buildspec is never used. Variables set by StartBuild:
#   IMAGE_REPOSITORY_URI  e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/etl
#   IMAGE_TAGS            space-separated tags; the first one is the commit sha
#   DOCKERFILE            path of the Dockerfile, relative to the source root
#   BUILD_CONTEXT         build context folder, relative to the source root
#   BUILD_ARGS            newline-separated KEY=VALUE build arguments (may be empty)
# It also sets BATCHSHIP_RELEASE_ID, which this file does not use: batchship finds a build it
# started again by it after a crash.
# Generated from src/aws/buildspec.ts (npm run buildspec); edit it there.
version: 0.2

env:
  shell: bash

phases:
  pre_build:
    commands:
      - |
        set -euo pipefail
        if ! docker info >/dev/null 2>&1; then
          echo "batchship: cannot reach Docker in image \${CODEBUILD_BUILD_IMAGE:-?}. The build needs privileged mode, which batchship requests (privilegedModeOverride); use a LINUX_CONTAINER or ARM_CONTAINER environment, not Lambda compute." >&2
          exit 1
        fi
        if ! docker buildx version >/dev/null 2>&1; then
          echo "batchship: docker buildx is missing in image \${CODEBUILD_BUILD_IMAGE:-?}. Use aws/codebuild/amazonlinux-x86_64-standard:5.0, aws/codebuild/amazonlinux-aarch64-standard:3.0 or aws/codebuild/standard:7.0." >&2
          exit 1
        fi
        registry="\${IMAGE_REPOSITORY_URI%%/*}"
        aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "$registry"
  build:
    commands:
      - |
        set -euo pipefail
        registry="\${IMAGE_REPOSITORY_URI%%/*}"
        tag_args=()
        for tag in $IMAGE_TAGS; do tag_args+=(--tag "$IMAGE_REPOSITORY_URI:$tag"); done
        arg_args=()
        while IFS= read -r pair; do
          if [ -n "$pair" ]; then arg_args+=(--build-arg "$pair"); fi
        done <<< "\${BUILD_ARGS:-}"
        cache_args=()
        cache_digest="$(aws ecr describe-images --registry-id "\${registry%%.*}" --repository-name "\${IMAGE_REPOSITORY_URI#*/}" \\
          --filter tagStatus=TAGGED --query 'sort_by(imageDetails,&imagePushedAt)[-1].imageDigest' --output text 2>/dev/null || true)"
        case "$cache_digest" in
          sha256:*) cache_args+=(--cache-from "type=registry,ref=$IMAGE_REPOSITORY_URI@$cache_digest") ;;
          *) echo "batchship: no earlier image in $IMAGE_REPOSITORY_URI to take a layer cache from" ;;
        esac
        docker buildx build \\
          --builder default \\
          --file "$DOCKERFILE" \\
          \${tag_args[@]+"\${tag_args[@]}"} \\
          \${arg_args[@]+"\${arg_args[@]}"} \\
          \${cache_args[@]+"\${cache_args[@]}"} \\
          --cache-to type=inline \\
          --provenance=false \\
          --push \\
          -- "$BUILD_CONTEXT"
`;
