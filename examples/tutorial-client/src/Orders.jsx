// The tutorial's order list, as its readers wrote it: connect with the token, listen for
// statusChanged in a useEffect, keep the pending orders. The only change for Brigade is
// `auth: { token }` (statusChanged reaches signed-in admins only) and closing the socket
// when the component goes away.
import { useEffect, useState } from 'react';
import io from 'socket.io-client';

const BASE_URL = window.location.origin;

export default function Orders({ token }) {
  const [ordersData, setOrdersData] = useState([]);
  const [connected, setConnected] = useState(false);

  useEffect(() => {
    const socket = io.connect(BASE_URL, { auth: { token } });
    socket.on('connect', () => setConnected(true));
    socket.on('disconnect', () => setConnected(false));
    socket.on('statusChanged', (data) => {
      const filtered = data.filter((item) => item.status.includes('보류 중'));
      setOrdersData(filtered);
    });
    return () => socket.disconnect();
  }, [token]);

  return (
    <section>
      <h2>
        보류 중인 주문 (pending orders) <small>{connected ? '● live' : '○ connecting…'}</small>
      </h2>
      {ordersData.length === 0 ? (
        <p data-testid="no-orders">No pending orders.</p>
      ) : (
        <table data-testid="orders">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Items</th>
              <th>Total</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {ordersData.map((order) => (
              <tr key={order.id} data-testid={`order-${order.id}`}>
                <td>{order.id}</td>
                <td>{new Date(order.created_at).toLocaleTimeString()}</td>
                <td>{order.items.map((line) => `${line.quantity}× ${line.name}`).join(', ')}</td>
                <td>{(order.total_cents / 100).toFixed(2)}</td>
                <td>{order.status}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
