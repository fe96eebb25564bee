import { CodedError, isCodedError } from '@streamsvc/common';
import type { CodedErrorOptions } from '@streamsvc/common';

/** Why a test service could not be started. */
export const TestkitErrorCode = {
  /** A program the service needs is not installed; the message says how to install it. */
  BINARY_NOT_FOUND: 'BINARY_NOT_FOUND',
  /** The process exited before it became ready; the message carries the tail of its log. */
  START_FAILED: 'START_FAILED',
  /** The process did not become ready before the deadline; it was killed. */
  START_TIMEOUT: 'START_TIMEOUT',
  /** A helper build (the Kafka mock) failed. */
  BUILD_FAILED: 'BUILD_FAILED',
} as const;

export type TestkitErrorCode = (typeof TestkitErrorCode)[keyof typeof TestkitErrorCode];

/** The error class of `@streamsvc/testkit`. */
export class TestkitError extends CodedError<TestkitErrorCode> {
  constructor(code: TestkitErrorCode, message: string, options?: CodedErrorOptions) {
    super('testkit', code, `[testkit] ${message}`, false, options);
  }

  static is(e: unknown, code?: TestkitErrorCode): e is TestkitError {
    return isCodedError(e, 'testkit', code);
  }
}
