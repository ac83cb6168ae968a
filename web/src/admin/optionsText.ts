// Option groups as the menu editor writes them, one group a line:
//   Size [1-1]: Regular, Large +2.00
//   Remove [0-2]: No onion, No pickles (sold out)
// "[min-max]" may be left out (optional, one choice). Ids are kept for the groups and
// options whose names stay the same, so orders and carts keep pointing at them.
// The sold-out mark is written in the panel's language ("(sold out)", "(품절)"); both are read.
import { formatMoneyPlain, parseMoney } from '../shared/format';
import { messagesNow } from '../shared/i18n';
import type { OptionGroup } from '../shared/types';
import { admin, type AdminMessages } from './messages';

/** What cannot be read, in the catalog's language (said when shown, so it follows a switch). */
export type OptionsProblem = (m: AdminMessages) => string;

export interface OptionGroupInput {
  id?: number;
  name: string;
  min: number;
  max: number;
  options: { id?: number; name: string; price_cents: number; available: boolean }[];
}

export function groupsToText(groups: OptionGroup[], m: AdminMessages = messagesNow(admin)): string {
  return groups
    .map(
      (g) =>
        `${g.name} [${g.min}-${g.max}]: ` +
        g.options.map((o) => `${o.name}${o.price_cents ? ` +${formatMoneyPlain(o.price_cents)}` : ''}${o.available ? '' : ` ${m.soldOut}`}`).join(', '),
    )
    .join('\n');
}

/** The groups a text describes, or the line that cannot be read. */
export function textToGroups(text: string, current: OptionGroup[]): OptionGroupInput[] | OptionsProblem {
  const out: OptionGroupInput[] = [];
  for (const [n, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line) continue;
    const m = line.match(/^([^:[\]]+?)\s*(?:\[(\d+)\s*-\s*(\d+)\])?\s*:\s*(.+)$/);
    if (!m) return (t) => t.optionsLineFormat(n + 1);
    const name = m[1].trim();
    const old = current.find((g) => g.name === name);
    const options = [];
    for (const part of m[4].split(',')) {
      const o = part.trim().match(/^(.+?)(?:\s*\+\s*([0-9]+(?:[.,][0-9]{1,2})?))?(\s*\((?:sold out|품절)\))?$/i);
      if (!o) return (t) => t.optionsCannotRead(n + 1, part.trim());
      const oname = o[1].trim();
      const price = o[2] ? parseMoney(o[2]) : 0;
      if (price == null) return (t) => t.optionsBadPrice(n + 1, part.trim());
      const prev = old?.options.find((x) => x.name === oname);
      options.push({ ...(prev ? { id: prev.id } : {}), name: oname, price_cents: price, available: !o[3] });
    }
    out.push({ ...(old ? { id: old.id } : {}), name, min: m[2] ? Number(m[2]) : 0, max: m[3] ? Number(m[3]) : 1, options });
  }
  return out;
}
