// A failed request as a sentence in the panel's language: the server's error code is looked
// up in shared/messages.ts; the raw code or the server's English message is never shown.
import { ApiError } from './api';
import { messagesNow } from './i18n';
import { shared } from './messages';

/** The sentence for an error code, or null when the panels have none for it. */
export function errorSentence(code: string): string | null {
  const sentences: Record<string, string> = messagesNow(shared).error;
  return Object.prototype.hasOwnProperty.call(sentences, code) ? sentences[code] : null;
}

/** What to tell the user about `e` (an ApiError, a network failure, anything thrown). */
export function errorText(e: unknown): string {
  const m = messagesNow(shared);
  if (e instanceof ApiError) return errorSentence(e.code) ?? m.errorUnknown(e.status);
  return m.errorUnknown(0);
}
