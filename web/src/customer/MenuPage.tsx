import { useEffect, useState } from 'react';
import { formatMoney } from '../shared/format';
import { ALLERGENS, type Menu, type MenuItem } from '../shared/types';
import { ErrorBanner, Spinner } from '../shared/ui';
import { type Cart, itemCount, lineKey } from './cart';
import { OptionSheet } from './OptionSheet';
import { Stepper } from './Stepper';

const AVOID_KEY = 'brigade.customer.avoid';

/** The menu: categories, dishes with their allergens, the allergen filter, Add. */
export function MenuPage({ menu, error, onRetry, cart, setQty }: { menu: Menu | null; error: string | null; onRetry: () => void; cart: Cart; setQty: (key: string, q: number) => void }) {
  const [choosing, setChoosing] = useState<MenuItem | null>(null);
  const [avoid, setAvoid] = useState<string[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(AVOID_KEY) ?? '[]');
    } catch {
      return [];
    }
  });
  useEffect(() => localStorage.setItem(AVOID_KEY, JSON.stringify(avoid)), [avoid]);
  if (!menu) return error ? <ErrorBanner message={`Could not load the menu: ${error}`} onRetry={onRetry} /> : <Spinner label="Loading the menu…" />;
  const present = ALLERGENS.filter((a) => menu.categories.some((c) => c.items.some((i) => i.allergens?.includes(a))));
  const cats = menu.categories
    .map((c) => ({ ...c, items: c.items.filter((i) => i.available && !i.allergens?.some((a) => avoid.includes(a))) }))
    .filter((c) => c.items.length);
  return (
    <div className="menu-page">
      <section className="hero">
        <h1>What are you craving?</h1>
        <p>Fresh from our kitchen to your door. Follow your order live, right up to the doorbell.</p>
      </section>
      <nav className="cat-chips" aria-label="Menu categories">
        {cats.map((c) => (
          <a key={c.id} href={`#/`} onClick={(e) => (e.preventDefault(), document.getElementById(`cat-${c.id}`)?.scrollIntoView({ behavior: 'smooth' }))} className="chip">
            {c.name}
          </a>
        ))}
      </nav>
      {present.length > 0 && (
        <div className="allergen-filter" role="group" aria-label="Hide dishes containing" data-testid="allergen-filter">
          <span className="muted">Hide dishes with:</span>
          {present.map((a) => (
            <button key={a} type="button" className="chip" aria-pressed={avoid.includes(a)} onClick={() => setAvoid((v) => (v.includes(a) ? v.filter((x) => x !== a) : [...v, a]))}>
              {a}
            </button>
          ))}
        </div>
      )}
      <ErrorBanner message={error} onRetry={onRetry} />
      {cats.length === 0 && <p className="empty">The kitchen is resting — nothing is available right now.</p>}
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
                    {i.allergens?.length > 0 && <p className="allergens">Contains: {i.allergens.join(', ')}</p>}
                    <span className="dish-price num">{formatMoney(i.price_cents)}</span>
                  </div>
                  {withOptions ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={`Choose options for ${i.name}`} data-testid="choose-options" onClick={() => setChoosing(i)}>
                      {q ? `Add another (${q})` : 'Add'}
                    </button>
                  ) : q === 0 ? (
                    <button type="button" className="btn btn-small add-btn" aria-label={`Add ${i.name}`} onClick={() => setQty(lineKey(i.id, []), 1)}>
                      Add
                    </button>
                  ) : (
                    <Stepper name={i.name} q={q} onChange={(n) => setQty(lineKey(i.id, []), n)} />
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
