'use strict';
// Loaded by storage/log/pageCache.ts; throws when the addon was not built (it is optional).
module.exports = require('./build/Release/pagecache.node');
