import { ConfiguredRetryStrategy } from "@smithy/core/retry";

/** Fake, static credentials: moto does not check signatures, but the SDK must be able to sign. */
export const TEST_CREDENTIALS = { accessKeyId: "AKIAEMULATORTEST0000", secretAccessKey: "emulator-secret-access-key" };
const MAX_ATTEMPTS = 3;
const RETRY_DELAY_MS = 5;

interface EmulatorAddress {
  endpoint: string;
  region: string;
}

export interface TestClientConfig {
  region: string;
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  maxAttempts: number;
  retryStrategy: ConfiguredRetryStrategy;
}

/**
 * SDK client config for tests: the real retry behaviour, with milliseconds instead of seconds of
 * back-off. The retry strategy decides the attempts (a `maxAttempts` beside it is ignored by the
 * SDK), so a different count has to come through `options`.
 */
export function testClientConfig(emulator: EmulatorAddress, options: { maxAttempts?: number } = {}): TestClientConfig {
  const maxAttempts = options.maxAttempts ?? MAX_ATTEMPTS;
  return {
    region: emulator.region,
    endpoint: emulator.endpoint,
    credentials: { ...TEST_CREDENTIALS },
    maxAttempts,
    retryStrategy: new ConfiguredRetryStrategy(maxAttempts, RETRY_DELAY_MS),
  };
}

/**
 * Environment for a child process (the CLI) so its SDK clients reach the emulator. Spread it over
 * process.env; the static keys win over any profile, and the metadata service is never asked.
 */
export function emulatorEnv(emulator: EmulatorAddress): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: emulator.endpoint,
    AWS_REGION: emulator.region,
    AWS_DEFAULT_REGION: emulator.region,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
    AWS_RETRY_MODE: "standard",
    AWS_EC2_METADATA_DISABLED: "true",
  };
}
