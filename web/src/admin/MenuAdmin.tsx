import { useState, type FormEvent } from 'react';
import type { Api } from '../shared/api';
import { formatMoney, parseMoney } from '../shared/format';
import { useAction } from '../shared/hooks';
import { ALLERGENS, type Menu, type MenuCategory, type MenuItem } from '../shared/types';
import { groupsToText, textToGroups } from './optionsText';
import { ErrorBanner } from '../shared/ui';

/** Menu management. Every change goes through REST; the view follows menu:changed events. */
export function MenuAdmin({ api, menu, onReload }: { api: Api; menu: Menu; onReload: () => void }) {
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
          <h1>Menu</h1>
          <p className="muted">Changes reach customers immediately. Switch an item off when the kitchen runs out.</p>
        </div>
        <form className="row" onSubmit={addCategory}>
          <label className="sr-only" htmlFor="new-category">
            New category name
          </label>
          <input id="new-category" placeholder="New category" value={newCat} onChange={(e) => setNewCat(e.target.value)} required />
          <button className="btn btn-primary" type="submit" disabled={busy || !newCat.trim()}>
            Add category
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
              Category name
            </label>
            <input id={`catname-${cat.id}`} value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
              Save
            </button>
            <button className="btn btn-small btn-ghost" type="button" onClick={() => setRenaming(false)}>
              Cancel
            </button>
          </form>
        ) : (
          <h2 id={`cat-${cat.id}`}>
            {cat.name} <span className="count">{cat.items.length}</span>
          </h2>
        )}
        <div className="row">
          <button type="button" className="btn btn-small icon-btn" aria-label={`Move ${cat.name} up`} disabled={first || busy} onClick={() => onMove(-1)}>
            ↑
          </button>
          <button type="button" className="btn btn-small icon-btn" aria-label={`Move ${cat.name} down`} disabled={last || busy} onClick={() => onMove(1)}>
            ↓
          </button>
          <button type="button" className="btn btn-small" onClick={() => (setName(cat.name), setRenaming(true))}>
            Rename
          </button>
          {cat.items.length === 0 && (
            <button type="button" className="btn btn-small btn-danger" disabled={busy} onClick={() => void run(async () => (await api.deleteCategory(cat.id), onReload()))}>
              Delete
            </button>
          )}
          <button type="button" className="btn btn-small btn-primary" onClick={() => setAdding(true)}>
            + Add item
          </button>
        </div>
      </header>
      <ErrorBanner message={error} />
      <table className="menu-table">
        <thead>
          <tr>
            <th scope="col">Item</th>
            <th scope="col" className="col-price">Price</th>
            <th scope="col" className="col-avail">Available</th>
            <th scope="col" className="col-actions">
              <span className="sr-only">Actions</span>
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
      {cat.items.length === 0 && !adding && <p className="empty">No items yet.</p>}
    </section>
  );
}

function ItemRow({ api, item, first, last, onMove, onReload }: { api: Api; item: MenuItem; first: boolean; last: boolean; onMove: (d: -1 | 1) => void; onReload: () => void }) {
  const { busy, error, run } = useAction();
  const [editing, setEditing] = useState(false);
  const [name, setName] = useState(item.name);
  const [desc, setDesc] = useState(item.description);
  const [price, setPrice] = useState((item.price_cents / 100).toFixed(2));
  const [optionsText, setOptionsText] = useState(() => groupsToText(item.option_groups ?? []));
  const [allergens, setAllergens] = useState<string[]>(() => item.allergens ?? []);
  const [optionsError, setOptionsError] = useState<string | null>(null);

  const save = (e: FormEvent) => {
    e.preventDefault();
    const cents = parseMoney(price);
    if (cents == null) return;
    const groups = textToGroups(optionsText, item.option_groups ?? []);
    if (typeof groups === 'string') return setOptionsError(groups);
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
              <span>Name</span>
              <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
            </label>
            <label className="grow">
              <span>Description</span>
              <input value={desc} onChange={(e) => setDesc(e.target.value)} />
            </label>
            <label className="price-input">
              <span>Price</span>
              <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" required pattern="[0-9]+([.,][0-9]{1,2})?" />
            </label>
            <div className="option-editor">
              <label>
                <span>Options — one group a line: Size [1-1]: Regular, Large +2.00 · [1-…] makes a group required · “(sold out)” after an option</span>
                <textarea rows={3} value={optionsText} onChange={(e) => setOptionsText(e.target.value)} data-testid="options-text" placeholder="Size [1-1]: Regular, Large +2.00" />
              </label>
              <fieldset className="row" style={{ flexWrap: 'wrap', border: 0, padding: 0 }}>
                <legend className="muted small">Allergens</legend>
                {ALLERGENS.map((a) => (
                  <label key={a} className="small">
                    <input type="checkbox" checked={allergens.includes(a)} onChange={(e) => setAllergens((v) => (e.target.checked ? [...v, a] : v.filter((x) => x !== a)))} /> {a}
                  </label>
                ))}
              </fieldset>
              <ErrorBanner message={optionsError} />
            </div>
            <div className="row">
              <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
                Save
              </button>
              <button className="btn btn-small btn-ghost" type="button" onClick={() => setEditing(false)}>
                Cancel
              </button>
              <button
                className="btn btn-small btn-danger"
                type="button"
                disabled={busy}
                onClick={() => confirm(`Delete ${item.name}?`) && void run(async () => (await api.deleteItem(item.id), onReload()))}
              >
                Delete
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
            aria-label={`${item.name} available`}
            onChange={(e) => void run(() => api.updateItem(item.id, { available: e.target.checked }))}
          />
          <span className="switch-text">{item.available ? 'On' : 'Off'}</span>
        </label>
      </td>
      <td className="col-actions">
        <button type="button" className="btn btn-small icon-btn" aria-label={`Move ${item.name} up`} disabled={first || busy} onClick={() => onMove(-1)}>
          ↑
        </button>
        <button type="button" className="btn btn-small icon-btn" aria-label={`Move ${item.name} down`} disabled={last || busy} onClick={() => onMove(1)}>
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
            setOptionsText(groupsToText(item.option_groups ?? []));
            setAllergens(item.allergens ?? []);
            setOptionsError(null);
            setEditing(true);
          }}
        >
          Edit
        </button>
      </td>
    </tr>
  );
}

function NewItemRow({ api, categoryId, position, onDone, onCancel }: { api: Api; categoryId: number; position: number; onDone: () => void; onCancel: () => void }) {
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
            <span>Name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} required autoFocus />
          </label>
          <label className="grow">
            <span>Description</span>
            <input value={desc} onChange={(e) => setDesc(e.target.value)} />
          </label>
          <label className="price-input">
            <span>Price</span>
            <input value={price} onChange={(e) => setPrice(e.target.value)} inputMode="decimal" placeholder="9.50" required pattern="[0-9]+([.,][0-9]{1,2})?" />
          </label>
          <div className="row">
            <button className="btn btn-small btn-primary" type="submit" disabled={busy}>
              Add item
            </button>
            <button className="btn btn-small btn-ghost" type="button" onClick={onCancel}>
              Cancel
            </button>
          </div>
          <ErrorBanner message={error} />
        </form>
      </td>
    </tr>
  );
}
