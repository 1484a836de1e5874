import { useState } from 'react';
import { dismissError, dismissErrors, useNoticeStore } from '../store/stores';

/**
 * The lab's problems in one banner: the newest in full, the older ones folded under a count, each dismissable,
 * and "Dismiss all". A message that comes again is counted (×3) rather than repeated.
 */
export function ErrorBanner() {
  const errors = useNoticeStore((s) => s.errors);
  const [showOlder, setShowOlder] = useState(false);
  if (!errors.length) return null;
  const [newest, ...older] = errors;
  const item = (notice: (typeof errors)[number]) => (
    <li key={notice.id} data-testid="error-message">
      <span>{notice.message}</span>
      {notice.count > 1 && (
        <span className="notice-count" title={`${notice.count} times`}>
          {' '}
          ×{notice.count}
        </span>
      )}
      <button
        type="button"
        className="link-button"
        aria-label={`Dismiss: ${notice.message}`}
        onClick={() => dismissError(notice.id)}
      >
        dismiss
      </button>
    </li>
  );
  return (
    <div className="error-banner" role="alert" data-testid="error-banner" data-count={errors.length}>
      <ul>{item(newest!)}</ul>
      {older.length > 0 && (
        <div className="older-errors">
          <button
            type="button"
            className="link-button"
            data-testid="error-older-toggle"
            aria-expanded={showOlder}
            onClick={() => setShowOlder(!showOlder)}
          >
            {showOlder ? 'Hide' : 'Show'} {older.length} earlier message{older.length === 1 ? '' : 's'}
          </button>
          {showOlder && <ul>{older.map(item)}</ul>}
        </div>
      )}
      <button type="button" data-testid="error-dismiss-all" onClick={dismissErrors}>
        Dismiss all
      </button>
    </div>
  );
}
