/**
 * Helpers shared by the editor forms of node-red-contrib-bottle-inspection.
 *
 * Node-RED serves this file to the editor as resources/node-red-contrib-bottle-inspection/editor.js,
 * and every node's .html loads it before its own script. It therefore runs once per node set: the
 * first run defines window.BottleInspectionEditor, later runs leave it as it is.
 *
 * The rules read a field the way the runtime does (nodes/shared/config.ts num()), so the editor
 * flags exactly the values the runtime would refuse.
 *
 *     const E = BottleInspectionEditor;
 *     const { t, fail, numberRule } = E.forType('classify');
 */
(function (global) {
    'use strict';
    if (global.BottleInspectionEditor) return;

    /** Same reading as the runtime: blank gives the default, anything else not a number is NaN. */
    function numberOr(value, fallback) {
        if (value === undefined || value === null || value === '') return fallback;
        const n = typeof value === 'number' ? value : Number(String(value).trim());
        return Number.isFinite(n) ? n : NaN;
    }

    /** Time from trigger to deadline: distance ÷ speed − actuator lead (lib/line/line.ts deadlineBudgetMs). */
    function budgetMs(distanceMm, speedMps, leadMs) {
        return distanceMm / speedMps - leadMs;
    }

    /** The runtime's line defaults (lib/line/line.ts DEFAULT_LINE), used for a blank field. */
    const LINE_DEFAULTS = Object.freeze({
        positions: 'top,left',
        triggerRateHz: 10,
        maxBottles: 0,
        conveyorSpeedMps: 2,
        cameraToRejectMm: 800,
        actuatorLeadMs: 30,
        poolSlots: 0,
        inspectionThreads: 0,
    });

    /** Share of a line's deadline budget classify waits for views when its field is blank (nodes/classify/classify.ts). */
    const VIEW_TIMEOUT_SHARE = 0.6;

    /**
     * The helpers that depend on the node type: its message catalogue and, for a config node
     * (`{ config: true }`), the node-config-input- prefix of its dialog's fields.
     */
    function forType(type, options) {
        const prefix = '#' + (options && options.config ? 'node-config-input-' : 'node-input-');

        /** A message of this type's catalogue, key without the type: t('validation.side', subs). */
        function t(key, subs) {
            return RED.nodes.getType(type)._(type + '.' + key, subs);
        }

        /** What a validator returns for a bad value: the message when asked for one, else false. */
        function fail(opt, key, subs) {
            return opt ? t('validation.' + key, subs) : false;
        }

        /**
         * A validator that checks one number (blank gives `fallback`) against `ok`, with the message
         * validation.<key>, given the value and any `subs`.
         */
        function numberRule(fallback, ok, key, subs) {
            return function (value, opt) {
                if (ok(numberOr(value, fallback))) return true;
                return fail(opt, key, Object.assign({ value: value }, subs));
            };
        }

        /** A validator for a number from range.min to range.max; its message is given min and max. */
        function rangeRule(key, fallback, range) {
            return numberRule(fallback, function (n) { return n >= range.min && n <= range.max; }, key,
                { min: range.min, max: range.max });
        }

        /**
         * A field's value while this node's edit dialog is open (the field is marked with
         * markEditing), its saved value otherwise, so a rule that spans fields judges what is on screen.
         */
        function current(node, name) {
            const input = $(prefix + name);
            return input.length && input.attr('data-editing') === node.id ? input.val() : node[name];
        }

        /** Marks the named fields of the open dialog as this node's, for current(). */
        function markEditing(node, names) {
            $(names.map(function (name) { return prefix + name; }).join(', ')).attr('data-editing', node.id);
        }

        /**
         * A validator for one side of a resize: blank (no resize) or a whole number of pixels up to
         * maxPx, and given together with the `other` side or not at all.
         */
        function sideRule(name, other, maxPx) {
            return function (value, opt) {
                const n = numberOr(value, 0);
                if (!(Number.isInteger(n) && n >= 0 && n <= maxPx)) {
                    return fail(opt, 'side', { field: t('label.' + name), value: value, max: maxPx });
                }
                const m = numberOr(current(this, other), 0);
                if (Number.isInteger(m) && (n > 0) !== (m > 0)) return fail(opt, 'resizePair');
                return true;
            };
        }

        /**
         * A validator for a number field that may be left blank (the runtime then leaves the
         * setting alone): blank passes, anything else must satisfy `ok`; the message
         * validation.<key> is given the value and any `subs`.
         */
        function optionalRule(key, ok, subs) {
            return function (value, opt) {
                if (value === undefined || value === null || String(value).trim() === '') return true;
                if (ok(numberOr(value, NaN))) return true;
                return fail(opt, key, Object.assign({ value: value }, subs));
            };
        }

        /**
         * Applies `rule` only while the node's `field` (as on screen, see markEditing) is one of
         * `values`, so fields of a choice not taken never block a deploy.
         */
        function onlyWhen(field, values, rule) {
            return function (value, opt) {
                if (values.indexOf(current(this, field)) < 0) return true;
                return rule.call(this, value, opt);
            };
        }

        /**
         * The palette label, node label (its name, else the palette label) and port labels every
         * flow node of the package shows, from its catalogue.
         */
        const labels = {
            paletteLabel: function () { return this._(type + '.paletteLabel'); },
            label: function () { return this.name || this._(type + '.paletteLabel'); },
            inputLabels: function () { return this._(type + '.label.input'); },
            outputLabels: function () { return this._(type + '.label.output'); },
        };

        return {
            t: t,
            fail: fail,
            labels: labels,
            numberRule: numberRule,
            rangeRule: rangeRule,
            current: current,
            markEditing: markEditing,
            sideRule: sideRule,
            optionalRule: optionalRule,
            onlyWhen: onlyWhen,
        };
    }

    global.BottleInspectionEditor = Object.freeze({
        numberOr: numberOr,
        budgetMs: budgetMs,
        LINE_DEFAULTS: LINE_DEFAULTS,
        VIEW_TIMEOUT_SHARE: VIEW_TIMEOUT_SHARE,
        forType: forType,
    });
})(window);
