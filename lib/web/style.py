"""The dashboard's stylesheet, inlined in each page: mobile first, system fonts, no external assets.

Colours are the Okabe-Ito palette the charts use, and no status is told by colour alone: every badge
carries its word and a mark (▲ firing, ✕ error, ? no data, ✓ ok).
"""

from __future__ import annotations

CSS = """
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;
color:#1a1a1a;background:#f4f5f7}
header{background:#0b3d63;color:#fff;padding:12px 16px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px}
header h1{font-size:1.2rem;margin:0;flex:1 1 auto}
header .asof{margin:0;font-size:.85rem;opacity:.9;flex:1 1 100%}
main{padding:12px;max-width:1280px;margin:0 auto}
section{background:#fff;border-radius:8px;padding:12px 14px;margin:0 0 12px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
h2{font-size:1.05rem;margin:0 0 8px}
h2.sec{margin:4px 2px 8px}
h3{font-size:1rem;margin:0 0 6px;word-break:break-all}
ul.items{list-style:none;margin:0;padding:0}
ul.items li{padding:8px 0;border-top:1px solid #e6e6e6;display:flex;flex-wrap:wrap;gap:4px 10px;align-items:baseline}
ul.items li:first-child{border-top:0}
.t{font-weight:600;word-break:break-all}
.d{color:#444;font-size:.9rem;flex:1 1 100%;word-break:break-word}
.empty{color:#555;margin:0}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:1px 8px;border-radius:10px;border:2px solid;
white-space:nowrap}
.s-firing{color:#a3400a;border-color:#D55E00;background:#fdebdf}
.s-firing::before{content:"▲ "}
.s-error,.s-failed,.s-undo-failed{color:#8a2f6a;border-color:#CC79A7;background:#f8e9f2}
.s-error::before,.s-failed::before,.s-undo-failed::before{content:"✕ "}
.s-no-data,.s-expired{color:#444;border-color:#888;background:#eee;border-style:dashed}
.s-no-data::before,.s-expired::before{content:"? "}
.s-ok,.s-done,.s-undone{color:#00674c;border-color:#009E73;background:#e3f5ef}
.s-ok::before,.s-done::before,.s-undone::before{content:"✓ "}
.s-resolved,.s-pending-approval,.s-executing,.s-undoing{color:#004f80;border-color:#0072B2;background:#e3f0f9}
.s-pending-approval::before{content:"… "}
.cards{display:grid;grid-template-columns:1fr;gap:12px}
.card{margin:0}
.card .head{display:flex;flex-wrap:wrap;gap:6px 10px;align-items:baseline;margin-bottom:6px}
.card .meta{color:#555;font-size:.85rem}
.chart{margin:0 -4px}
.chart svg{display:block;width:100%;height:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem;margin-top:8px}
th,td{text-align:left;padding:4px 6px;border-top:1px solid #e6e6e6;vertical-align:top}
th{font-weight:600;color:#333}
td.n{font-variant-numeric:tabular-nums;white-space:nowrap}
.more{color:#555;font-size:.85rem;margin:4px 0 0}
form.inline{display:inline}
button{font:inherit;font-weight:600;padding:8px 16px;border-radius:6px;border:2px solid #0b3d63;background:#fff;
color:#0b3d63;cursor:pointer;min-height:44px}
button.primary{background:#0072B2;border-color:#0072B2;color:#fff}
button.undo{border-color:#8a2f6a;color:#8a2f6a}
header button{border-color:#fff;color:#fff;background:transparent;min-height:36px;padding:4px 12px}
.notice{border-left:6px solid #0072B2}
.notice p,.readonly p{margin:0}
.notice.bad{border-left-color:#D55E00}
.readonly{border-left:6px solid #888}
.signin{max-width:420px;margin:10vh auto 0}
.signin label{display:block;font-weight:600;margin:12px 0 4px}
.signin input{width:100%;font:inherit;padding:10px;border:2px solid #888;border-radius:6px}
.signin button{margin-top:12px;width:100%}
.err{color:#a3400a;font-weight:600}
.problems li{font-size:.85rem;color:#444}
@media (max-width:599px){
 table.rows thead{display:none}
 table.rows tr{display:grid;grid-template-columns:1fr 1fr;border-top:1px solid #e6e6e6;padding:4px 0}
 table.rows td{border:0;padding:2px 4px}
 table.rows td.g{grid-column:1/-1;font-weight:600}
 table.rows td[data-l]::before{content:attr(data-l) " ";color:#666;font-size:.8rem}
}
@media (min-width:900px){
 .cards{grid-template-columns:1fr 1fr}
 .cols{display:grid;grid-template-columns:1fr 1fr;gap:12px}
 .cols section{margin:0}
 header .asof{flex:0 1 auto}
}
"""
