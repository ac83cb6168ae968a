import { useEffect } from 'react';
import { formatTime } from '../shared/format';
import type { Menu, Order } from '../shared/types';
import { useMessages } from '../shared/i18n';
import { shared } from '../shared/messages';
import { admin } from './messages';

const AUTO_PRINT_KEY = 'brigade.admin.autoprint';
export const autoPrintWanted = () => localStorage.getItem(AUTO_PRINT_KEY) === 'on';
export const setAutoPrint = (on: boolean) => localStorage.setItem(AUTO_PRINT_KEY, on ? 'on' : 'off');

/**
 * A kitchen ticket for an 80 mm receipt printer: options, notes and allergens before
 * anything else. Rendered only for printing (admin.css hides everything else in print);
 * printed once it is on the page, then `onDone`.
 */
export function Ticket({ order, menu, onDone }: { order: Order; menu: Menu | null; onDone: () => void }) {
  const m = useMessages(admin);
  const allergenNames = useMessages(shared).allergen;
  useEffect(() => {
    const t = window.setTimeout(() => {
      window.print();
      onDone();
    }, 50);
    return () => window.clearTimeout(t);
  }, [order, onDone]);
  const allergens = new Map<number, string[]>();
  menu?.categories.forEach((c) => c.items.forEach((i) => allergens.set(i.id, i.allergens ?? [])));
  return (
    <div className="print-ticket" data-testid="print-ticket" aria-hidden="true">
      <div className="ticket-id">#{order.id}</div>
      <div>
        {formatTime(order.updated_at)}
        {order.prep_minutes != null && m.readyIn(order.prep_minutes)}
      </div>
      <hr />
      {order.items.map((l, i) => (
        <div key={i} className="ticket-line">
          <div className="ticket-dish">
            {l.quantity} × {l.name}
          </div>
          {l.options?.map((o) => (
            <div key={o.id} className="ticket-option">
              ▸ {o.name}
            </div>
          ))}
          {l.notes && <div className="ticket-note">{m.ticketNote} {l.notes}</div>}
          {(allergens.get(l.item_id)?.length ?? 0) > 0 && <div className="ticket-allergens">{m.ticketAllergens} {allergens.get(l.item_id)!.map((a) => (allergenNames as Record<string, string>)[a] ?? a).join(', ')}</div>}
        </div>
      ))}
      <hr />
      {order.notes && <div className="ticket-note">{m.ticketNote} {order.notes}</div>}
      <div className="ticket-customer">{order.customer_name}</div>
    </div>
  );
}
