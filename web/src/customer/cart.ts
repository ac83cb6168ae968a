// The cart: quantities by line, a line being an item with the options chosen for it
// ("12" plain, "12:3.5" with options 3 and 5), kept in localStorage.
import type { MenuItem, MenuOption } from '../shared/types';

export type Cart = Record<string, number>;

export function lineKey(itemId: number, options: number[]): string {
  return options.length ? `${itemId}:${[...options].sort((a, b) => a - b).join('.')}` : `${itemId}`;
}

export function parseLineKey(key: string): { itemId: number; options: number[] } {
  const [item, opts] = key.split(':');
  return { itemId: Number(item), options: opts ? opts.split('.').map(Number) : [] };
}

export interface CartLine {
  key: string;
  q: number;
  itemId: number;
  item: MenuItem | undefined;
  options: MenuOption[]; // as on the menu now
  missingOptions: boolean; // an option chosen is gone or unavailable
  unitCents: number;
}

export function cartLines(cart: Cart, items: Map<number, MenuItem>): CartLine[] {
  return Object.entries(cart).map(([key, q]) => {
    const { itemId, options } = parseLineKey(key);
    const item = items.get(itemId);
    const all = new Map((item?.option_groups ?? []).flatMap((g) => g.options).map((o) => [o.id, o]));
    const chosen = options.map((id) => all.get(id)).filter((o): o is MenuOption => !!o);
    const missingOptions = chosen.length !== options.length || chosen.some((o) => !o.available);
    const unitCents = (item?.price_cents ?? 0) + chosen.reduce((s, o) => s + o.price_cents, 0);
    return { key, q, itemId, item, options: chosen, missingOptions, unitCents };
  });
}

export function cartTotal(cart: Cart, items: Map<number, MenuItem>): number {
  return cartLines(cart, items).reduce((sum, l) => sum + l.unitCents * l.q, 0);
}

/** How many of an item the cart holds, over all its option choices. */
export function itemCount(cart: Cart, itemId: number): number {
  return Object.entries(cart).reduce((n, [key, q]) => n + (parseLineKey(key).itemId === itemId ? q : 0), 0);
}
