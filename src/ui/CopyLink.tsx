/**
 * "Copy link": the address of this configuration (backend, dataset, the distillation form whole: see
 * src/store/urlConfig.ts) to the clipboard. Where the browser refuses the clipboard, the link is shown to copy
 * by hand.
 */
import { useState } from 'react';
import { linkCaveat, shareableLink } from '../store/urlSync';

type Copied = { readonly link: string; readonly copied: boolean; readonly caveat: string | null };

export function CopyLink() {
  const [result, setResult] = useState<Copied | null>(null);
  const copy = async () => {
    const link = shareableLink();
    const caveat = linkCaveat();
    try {
      await navigator.clipboard.writeText(link);
      setResult({ link, copied: true, caveat });
    } catch {
      setResult({ link, copied: false, caveat });
    }
  };
  return (
    <div className="copy-link">
      <button
        type="button"
        data-testid="copy-link"
        title="Copy the address of this configuration: backend, dataset, method and its parameters, student, training settings, labels, seed"
        onClick={() => void copy()}
      >
        Copy link
      </button>
      {result && (
        <span className="hint" role="status" data-testid="copy-link-status" data-link={result.link}>
          {result.copied ? ' Link copied' : ' The browser refused the clipboard; copy it here: '}
          {result.caveat && ` (${result.caveat})`}
          {!result.copied && (
            <input
              readOnly
              value={result.link}
              aria-label="Link to this configuration"
              onFocus={(e) => e.target.select()}
            />
          )}
        </span>
      )}
    </div>
  );
}
