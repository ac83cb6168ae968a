import { useEffect, useRef, useState, type KeyboardEvent } from 'react';
import { formatMoney } from '../shared/format';
import { useMessages } from '../shared/i18n';
import type { MenuItem } from '../shared/types';
import { containsText } from './allergens';
import { customer } from './messages';

/** Choosing an item's options before it goes into the cart: required groups first. */
export function OptionSheet({ item, onAdd, onClose }: { item: MenuItem; onAdd: (options: number[]) => void; onClose: () => void }) {
  const all = useMessages(customer);
  const m = all.options;
  const [chosen, setChosen] = useState<Set<number>>(() => new Set());
  // A modal dialog: focus goes in (its first control), stays in (Tab wraps), Escape closes it,
  // and focus goes back to the button that opened it.
  const sheet = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    sheet.current?.querySelector<HTMLElement>('input:not(:disabled), button:not(:disabled)')?.focus();
    return () => {
      if (opener?.isConnected) opener.focus();
    };
  }, []);
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose();
      return;
    }
    if (e.key !== 'Tab' || !sheet.current) return;
    const controls = [...sheet.current.querySelectorAll<HTMLElement>('input:not(:disabled), button:not(:disabled)')];
    const first = controls[0];
    const last = controls[controls.length - 1];
    if (!e.shiftKey && document.activeElement === last) {
      e.preventDefault();
      first?.focus();
    } else if (e.shiftKey && document.activeElement === first) {
      e.preventDefault();
      last?.focus();
    }
  };
  const toggle = (groupIndex: number, id: number) => {
    const g = item.option_groups[groupIndex];
    const next = new Set(chosen);
    if (next.has(id)) next.delete(id);
    else {
      if (g.max === 1) for (const o of g.options) next.delete(o.id); // a radio group
      const inGroup = g.options.filter((o) => next.has(o.id)).length;
      if (inGroup >= g.max) return;
      next.add(id);
    }
    setChosen(next);
  };
  const problems = item.option_groups
    .map((g) => ({ g, n: g.options.filter((o) => chosen.has(o.id)).length }))
    .filter(({ g, n }) => n < g.min)
    .map(({ g }) => g.name);
  const price = item.price_cents + item.option_groups.flatMap((g) => g.options).filter((o) => chosen.has(o.id)).reduce((s, o) => s + o.price_cents, 0);
  return (
    <div className="sheet-backdrop" onClick={onClose}>
      <div className="sheet" ref={sheet} role="dialog" aria-modal="true" aria-labelledby="sheet-title" data-testid="option-sheet" onClick={(e) => e.stopPropagation()} onKeyDown={onKeyDown}>
        <h2 id="sheet-title">{item.name}</h2>
        {item.allergens.length > 0 && <p className="allergens">{containsText(all, item.allergens)}</p>}
        {item.option_groups.map((g, gi) => (
          <fieldset key={g.id} className="option-group">
            <legend>
              {g.name}{' '}
              <span className="muted small">{g.min > 0 ? (g.min === g.max ? m.chooseExactly(g.min) : m.chooseBetween(g.min, g.max)) : m.upToOptional(g.max)}</span>
            </legend>
            {g.options.map((o) => (
              <label key={o.id} className={o.available ? 'option' : 'option gone'}>
                <input type={g.max === 1 ? 'radio' : 'checkbox'} name={`group-${g.id}`} checked={chosen.has(o.id)} disabled={!o.available} onChange={() => toggle(gi, o.id)} onClick={() => g.max === 1 && chosen.has(o.id) && g.min === 0 && toggle(gi, o.id)} />
                <span>{o.name}</span>
                {!o.available && <span className="muted small"> — {m.soldOut}</span>}
                {o.price_cents > 0 && <span className="num option-price">+{formatMoney(o.price_cents)}</span>}
              </label>
            ))}
          </fieldset>
        ))}
        <div className="row sheet-actions">
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {m.cancel}
          </button>
          <button type="button" className="btn btn-primary" disabled={problems.length > 0} data-testid="add-with-options" onClick={() => onAdd([...chosen])}>
            {problems.length ? m.choose(problems.join(', ')) : m.addForPrice(formatMoney(price))}
          </button>
        </div>
      </div>
    </div>
  );
}
