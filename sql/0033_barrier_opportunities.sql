-- The opportunities of the barrier model (EUCPN, "Darknet drug markets:
-- recommendations drawn from a barrier model", section 2.1.B and the model's
-- table), per stage of the criminal business process: what makes the crime
-- possible besides the facilitators. The barrier-model report lists them beside
-- each stage's facilitators, signals, partners and barriers.
CREATE TABLE barrier_opportunities (
    stage text NOT NULL CHECK (stage IN ('setting_up_marketplace', 'running_marketplace', 'selling', 'shipping')),
    position integer NOT NULL CHECK (position > 0),
    label text NOT NULL CHECK (length(btrim(label)) BETWEEN 1 AND 200),
    source text NOT NULL CHECK (source IN ('paper', 'practice')),
    PRIMARY KEY (stage, position)
);
INSERT INTO barrier_opportunities (stage, position, label, source) VALUES
    ('setting_up_marketplace', 1, 'TOR encryption software', 'paper'),
    ('setting_up_marketplace', 2, 'Decentralised markets', 'paper'),
    ('running_marketplace', 1, 'TOR encryption software', 'paper'),
    ('running_marketplace', 2, 'Virtual offender convergence setting', 'paper'),
    ('selling', 1, 'TOR encryption software', 'paper'),
    ('selling', 2, 'Freely accessible', 'paper'),
    ('selling', 3, 'Culture of trust', 'paper'),
    ('selling', 4, 'Community', 'paper'),
    ('selling', 5, 'Prohibition of drugs', 'paper'),
    ('shipping', 1, 'Sophisticated concealment', 'paper'),
    ('shipping', 2, 'Increase of parcel shipment', 'paper');
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON barrier_opportunities FROM barrier_app;
GRANT SELECT ON barrier_opportunities TO barrier_app;
