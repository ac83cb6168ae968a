// Allergens as the customer reads them: named in the panel's language (shared/messages.ts).
import { messagesNow } from '../shared/i18n';
import { shared } from '../shared/messages';
import type { CustomerMessages } from './messages';

/** An allergen code ("milk") in words; an unknown code as it is. */
export function allergenName(_m: CustomerMessages, code: string): string {
  return (messagesNow(shared).allergen as Record<string, string>)[code] ?? code;
}

/** "Contains: gluten, milk". */
export function containsText(m: CustomerMessages, allergens: readonly string[]): string {
  return m.contains(allergens.map((a) => allergenName(m, a)).join(m.allergenSeparator));
}
