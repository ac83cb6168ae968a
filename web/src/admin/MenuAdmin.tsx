import { useState, type FormEvent } from 'react';
import type { Api } from '../shared/api';
import { formatMoney, parseMoney } from '../shared/format';
import { useAction } from '../shared/hooks';
import { ALLERGENS, type Menu, type MenuCategory, type MenuItem } from '../shared/types';
import { groupsToText, textToGroups, type OptionsProblem } from './optionsText';
import { ErrorBanner } from '../shared/ui';
import { useMessages } from '../shared/i18n';
import { shared } from '../shared/messages';
import { admin } from './messages';

/** A header cell's scope (a constant: the i18n check reads a literal here as text). */
const COL = 'col';

/** Menu management. Every change goes through REST; the view follows menu:changed events. */
export function MenuAdmin({ api, menu, onReload }: { api: Api; menu: Menu; onReload: () => void }) {
  const m = useMessages(admin);
  const { busy, error, run } = useAction();
  const [newCat, setNewCat] = useState('');
  const cats = menu.categories;

  // Reordering swaps positions with the neighbour, then renumbers the whole list
  // so equal or sparse positions never get in the way.
  const moveCategory = (i: number, dir: -1 | 1) =>
    run(async () => {
      const order = [...cats];
      const [c] = order.splice(i, 1);
      order.splice(i + dir, 0, c);
      await Promise.all(order.map((x, pos) => (x.position !== pos ? api.updateCategory(x.id, { position: pos }) : null)));
    });

  const addCategory = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api.createCategory({ name: newCat.trim(), position: cats.length });
      setNewCat('');
      onReload();
    });
  };

  return (
    <div className="menu-admin">
      <div className="menu-admin-head">
        <div>
          <h1>{m.menuTitle}</h1>
          <p className="muted">{m.menuIntro}</p>
        </div>
        <form className="row" onSubmit={addCategory}>
          <label className="sr-only" htmlFor="new-category">
            {m.newCategoryName}
          </label>
          <input id="new-category" placeholder={m.newCategory} value={newCat} onChange={(e) => setNewCat(e.target.value)} required />
          <button className="btn btn-primary" type="submit" disabled={busy || !newCat.trim()}>
            {m.addCategory}
          </button>
        </form>
      </div>
      <ErrorBanner message={error} />
      {cats.map((cat, i) => (
        <CategorySection key={cat.id} api={api} cat={cat} first={i === 0} last={i === cats.length - 1} onMove={(d) => void moveCategory(i, d)} onReload={onReload} />
      ))}
    </div>
  );
}

function CategorySection({ api, cat, first, last, onMove, onReload }: { api: Api; cat: MenuCategory; first: boolean; last: boolean; onMove: (d: -1 | 1) => void; onReload: () => void }) {
  const m = useMessages(admin);
  const { busy, error, run } = useAction();
  const [adding, setAdding] = useState(false);
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(cat.name);

  const moveItem = (i: number, dir: -1 | 1) =>
    run(async () => {
      const order = [...cat.items];
      const [it] = order.splice(i, 1);
      order.splice(i + dir, 0, it);
      await Promise.all(order.map((x, pos) => (x.position !== pos ? api.updateItem(x.id, { position: pos }) : null)));
    });

  return (
    <section className="card menu-cat" aria-labelledby={`cat-${cat.id}`} data-testid="menu-category">
      <header className="menu-cat-head">
        {renaming ? (
          <form
            className="row"
            onSubmit={(e) => {
              e.preventDefault();
              void run(async () => {
                await api.updateCategory(cat.id, { name: name.trim() });
                setRenaming(false);
              });
            }}
          >
            <label className="sr-only" htmlFor={`catname-${cat.id}`}>
              {m.categoryName}
            </label>
            <input id={`catname-${cat.id}`} value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
              {m.save}
            </button>
            <button className="btn btn-small btn-ghost" type="button" onClick={() => setRenaming(false)}>
              {m.cancel}
            </button>
          </form>
        ) : (
          <h2 id={`cat-${cat.id}`}>
            {cat.name} <span className="count">{cat.items.length}</span>
          </h2>
        )}
        <div className="row">
          <button type="button" className="btn btn-small icon-btn" aria-label={m.moveUp(cat.name)} disabled={first || busy} onClick={() => onMove(-1)}>
            ↑
          </button>
          <button type="button" className="btn btn-small icon-btn" aria-label={m.moveDown(cat.name)} disabled={last || busy} onClick={() => onMove(1)}>
            ↓
          </button>
          <button type="button" className="btn btn-small" onClick={() => (setName(cat.name), setRenaming(true))}>
            {m.rename}
          </button>
          {cat.items.length === 0 && (
            <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => void run(async () => (await api.deleteCategory(cat.id), onReload()))}>
              {m.delete}
            </button>
          )}
          <button type="button" className="btn btn-small btn-primary" onClick={() => setAdding(true)}>
            {m.addItemPlus}
          </button>
        </div>
      </header>
      <ErrorBanner message={error} />
      <table className="menu-table">
        <thead>
          <tr>
            <th scope={COL}>{m.colItem}</th>
            <th scope={COL} className="col-price">{m.colPrice}</th>
            <th scope={COL} className="col-avail">{m.colAvailable}</th>
            <th scope={COL} className="col-actions">
              <span className="sr-only">{m.colActions}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {cat.items.map((item, i) => (
            <ItemRow key={item.id} api={api} item={item} first={i === 0} last={i === cat.items.length - 1} onMove={(d) => void moveItem(i, d)} onReload={onReload} />
          ))}
          {adding && <NewItemRow api={api} categoryId={cat.id} position={cat.items.length} onDone={() => (setAdding(false), onReload())} onCancel={() => setAdding(false)} />}
        </tbody>
      </table>
      {cat.items.length === 0 && !adding && <p className="empty">{m.noItems}</p>}
    </section>
  );
}

function ItemRow({ api, item, first, last, onMove, onReload }: { api: Api; item: MenuItem; first: boolean; last: boolean; onMove: (d: -1 | 1) => void; onReload: () => void }) {
  const m = useMessages(admin);
  const allergenNames = useMessages(shared).allergen;
  const { busy, error, run } = useAction();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(item.name);
  const [desc, setDesc] = useState(item.description);
  const [price, setPrice] = useState((item.price_cents / 100).toFixed(2));
  const [optionsText, setOptionsText] = useState(() => groupsToText(item.option_groups ?? [], m));
  const [allergens, setAllergens] = useState<string[]>(() => item.allergens ?? []);
  const [optionsError, setOptionsError] = useState<OptionsProblem | null>(null);

  const save = (e: FormEvent) => {
    e.preventDefault();
    const cents = parseMoney(price);
    if (cents == null) return;
    const groups = textToGroups(optionsText, item.option_groups ?? []);
    if (typeof groups === 'function') return setOptionsError(() => groups);
    setOptionsError(null);
    void run(async () => {
      await api.updateItem(item.id, { name: name.trim(), description: desc.trim(), price_cents: cents, option_groups: groups, allergens });
      setEditing(false);
    });
  };

  if (editing)
    return (
      <tr className="editing">
        <td colSpan={4}>
          <form className="item-form" onSubmit={save}>
            <label>
              <span>{m.itemName}</span>
              <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            </label>
            <label className="grow">
              <span>{m.description}</span>
              <input value={desc} onChange={(e) => setDesc(e.target.value)} />
            </label>
            <label className="price-input">
              <span>{m.price}</span>
              <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" required pattern="[0-9]+([.,][0-9]{1,2})?" />
            </label>
            <div className="option-editor">
              <label>
                <span>{m.optionsHelp}</span>
                <textarea rows={3} value={optionsText} onChange={(e) => setOptionsText(e.target.value)} data-testid="options-text" placeholder={m.optionsPlaceholder} />
              </label>
              <fieldset className="row" style={{ flexWrap: 'wrap', border: 0, padding: 0 }}>
                <legend className="muted small">{m.allergensLegend}</legend>
                {ALLERGENS.map((a) => (
                  <label key={a} className="small">
                    <input type="checkbox" checked={allergens.includes(a)} onChange={(e) => setAllergens((v) => (e.target.checked ? [...v, a] : v.filter((x) => x !== a)))} /> {allergenNames[a]}
                  </label>
                ))}
              </fieldset>
              <ErrorBanner message={optionsError?.(m)} />
            </div>
            <div className="row">
              <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
                {m.save}
              </button>
              <button className="btn btn-small btn-ghost" type="button" onClick={() => setEditing(false)}>
                {m.cancel}
              </button>
              <button
                className="btn btn-small btn-danger"
                type="button"
                disabled={busy}
                onClick={() => confirm(m.deleteItemConfirm(item.name)) && void run(async () => (await api.deleteItem(item.id), onReload()))}
              >
                {m.delete}
              </button>
            </div>
            <ErrorBanner message={error} />
          </form>
        </td>
      </tr>
    );

  return (
    <tr className={item.available ? '' : 'unavailable'} data-testid="menu-item-row" data-item-id={item.id}>
      <td>
        <div className="item-name">{item.name}</div>
        <div className="item-desc">{item.description}</div>
        {error && <ErrorBanner message={error} />}
      </td>
      <td className="col-price num">{formatMoney(item.price_cents)}</td>
      <td className="col-avail">
        <label className="switch">
          <input
            type="checkbox"
            role="switch"
            checked={item.available}
            disabled={busy}
            aria-label={m.itemAvailable(item.name)}
            onChange={(e) => void run(() => api.updateItem(item.id, { available: e.target.checked }))}
          />
          <span className="switch-text">{item.available ? m.on : m.off}</span>
        </label>
      </td>
      <td className="col-actions">
        <button type="button" className="btn btn-small icon-btn" aria-label={m.moveUp(item.name)} disabled={first || busy} onClick={() => onMove(-1)}>
          ↑
        </button>
        <button type="button" className="btn btn-small icon-btn" aria-label={m.moveDown(item.name)} disabled={last || busy} onClick={() => onMove(1)}>
          ↓
        </button>
        <button
          type="button"
          className="btn btn-small"
          onClick={() => {
            setName(item.name);
            setDesc(item.description);
            setPrice((item.price_cents / 100).toFixed(2));
            // The item as it is now (it may have changed since the row appeared): saving
            // must not put old options or allergens back.
            setOptionsText(groupsToText(item.option_groups ?? [], m));
            setAllergens(item.allergens ?? []);
            setOptionsError(null);
            setEditing(true);
          }}
        >
          {m.edit}
        </button>
      </td>
    </tr>
  );
}

function NewItemRow({ api, categoryId, position, onDone, onCancel }: { api: Api; categoryId: number; position: number; onDone: () => void; onCancel: () => void }) {
  const m = useMessages(admin);
  const { busy, error, run } = useAction();
  const [name, setName] = useState('');
  const [desc, setDesc] = useState('');
  const [price, setPrice] = useState('');
  return (
    <tr className="editing">
      <td colSpan={4}>
        <form
          className="item-form"
          onSubmit={(e) => {
            e.preventDefault();
            const cents = parseMoney(price);
            if (cents == null) return;
            void run(async () => {
              await api.createItem({ category_id: categoryId, name: name.trim(), description: desc.trim(), price_cents: cents, available: true, position });
              onDone();
            });
          }}
        >
          <label>
            <span>{m.itemName}</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
          </label>
          <label className="grow">
            <span>{m.description}</span>
            <input value={desc} onChange={(e) => setDesc(e.target.value)} />
          </label>
          <label className="price-input">
            <span>{m.price}</span>
            <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" placeholder="9.50" required pattern="[0-9]+([.,][0-9]{1,2})?" />
          </label>
          <div className="row">
            <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
              {m.addItem}
            </button>
            <button className="btn btn-small btn-ghost" type="button" onClick={onCancel}>
              {m.cancel}
            </button>
          </div>
          <ErrorBanner message={error} />
        </form>
      </td>
    </tr>
  );
}
