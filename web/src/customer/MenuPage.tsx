import { useEffect, useState } from 'react';
import { formatMoney } from '../shared/format';
import { useMessages } from '../shared/i18n';
import { ALLERGENS, type Menu, type MenuItem } from '../shared/types';
import { ErrorBanner, Spinner } from '../shared/ui';
import { type Cart, itemCount, lineKey } from './cart';
import { allergenName, containsText } from './allergens';
import { customer } from './messages';
import { OptionSheet } from './OptionSheet';
import { Stepper } from './Stepper';

const AVOID_KEY = 'brigade.customer.avoid';

/** The menu: categories, dishes with their allergens, the allergen filter, Add. */
export function MenuPage({ menu, error, onRetry, cart, setQty }: { menu: Menu | null; error: string | null; onRetry: () => void; cart: Cart; setQty: (key: string, q: number) => void }) {
  const all = useMessages(customer);
  const m = all.menu;
  // The item whose Add or − was pressed last: its replacement (the stepper, or Add again) takes the focus.
  const [touched, setTouched] = useState<number | null>(null);
  const [choosing, setChoosing] = useState<MenuItem | null>(null);
  const [avoid, setAvoid] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(AVOID_KEY) ?? '[]');
    } catch {
      return [];
    }
  });
  useEffect(() => localStorage.setItem(AVOID_KEY, JSON.stringify(avoid)), [avoid]);
  if (!menu) return error ? <ErrorBanner message={m.couldNotLoad(error)} onRetry={onRetry} /> : <Spinner label={m.loading} />;
  const present = ALLERGENS.filter((a) => menu.categories.some((c) => c.items.some((i) => i.allergens?.includes(a))));
  const cats = menu.categories
    .map((c) => ({ ...c, items: c.items.filter((i) => i.available && !i.allergens?.some((a) => avoid.includes(a))) }))
    .filter((c) => c.items.length);
  return (
    <div className="menu-page">
      <section className="hero">
        <h1>{m.heroTitle}</h1>
        <p>{m.heroText}</p>
      </section>
      <nav className="cat-chips" aria-label={m.categories}>
        {cats.map((c) => (
          <a key={c.id} href={`#/`} onClick={(e) => (e.preventDefault(), document.getElementById(`cat-${c.id}`)?.scrollIntoView({ behavior: 'smooth' }))} className="chip">
            {c.name}
          </a>
        ))}
      </nav>
      {present.length > 0 && (
        <div className="allergen-filter" role="group" aria-label={m.hideContaining} data-testid="allergen-filter">
          <span className="muted">{m.hideWith}</span>
          {present.map((a) => (
            <button key={a} type="button" className="chip" aria-pressed={avoid.includes(a)} onClick={() => setAvoid((v) => (v.includes(a) ? v.filter((x) => x !== a) : [...v, a]))}>
              {allergenName(all, a)}
            </button>
          ))}
        </div>
      )}
      <ErrorBanner message={error} onRetry={onRetry} />
      {cats.length === 0 && <p className="empty">{m.nothingAvailable}</p>}
      {cats.map((c) => (
        <section key={c.id} id={`cat-${c.id}`} className="menu-section" aria-labelledby={`h-cat-${c.id}`}>
          <h2 id={`h-cat-${c.id}`}>{c.name}</h2>
          <ul className="dish-list">
            {c.items.map((i) => {
              const withOptions = (i.option_groups?.length ?? 0) > 0;
              const q = withOptions ? itemCount(cart, i.id) : (cart[lineKey(i.id, [])] ?? 0);
              return (
                <li key={i.id} className="dish" data-testid="dish" data-item-id={i.id}>
                  <div className="dish-text">
                    <h3>{i.name}</h3>
                    {i.description && <p className="dish-desc">{i.description}</p>}
                    {i.allergens?.length > 0 && <p className="allergens">{containsText(all, i.allergens)}</p>}
                    <span className="dish-price num">{formatMoney(i.price_cents)}</span>
                  </div>
                  {withOptions ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={m.chooseOptionsFor(i.name, q)} aria-haspopup="dialog" data-testid="choose-options" onClick={() => setChoosing(i)}>
                      {q ? m.addAnother(q) : m.add}
                    </button>
                  ) : q === 0 ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={m.addItem(i.name)} autoFocus={touched === i.id} onClick={() => (setTouched(i.id), setQty(lineKey(i.id, []), 1))}>
                      {m.add}
                    </button>
                  ) : (
                    <Stepper name={i.name} q={q} autoFocus={touched === i.id} onChange={(n) => (setTouched(i.id), setQty(lineKey(i.id, []), n))} />
                  )}
                </li>
              );
            })}
          </ul>
        </section>
      ))}
      {choosing && (
        <OptionSheet
          item={choosing}
          onClose={() => setChoosing(null)}
          onAdd={(options) => {
            const key = lineKey(choosing.id, options);
            setQty(key, (cart[key] ?? 0) + 1);
            setChoosing(null);
          }}
        />
      )}
    </div>
  );
}
