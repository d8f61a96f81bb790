import type { ApiError } from '../../shared/api.ts';

/** An error the API reports to the renderer / HTTP client with a code and a readable message. */
export class ApiFailure extends Error {
  readonly code: ApiError['code'];

  constructor(code: ApiError['code'], message: string) {
    super(message);
    this.name = 'ApiFailure';
    this.code = code;
  }

  toJSON(): ApiError {
    return { code: this.code, message: this.message };
  }
}
