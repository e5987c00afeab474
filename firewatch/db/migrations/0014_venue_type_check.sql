-- A venue's type is one of the contract's (CONTRACT.md section 2; kernel.contract.VenueType), as
-- the registry import has always checked: the database now holds it too, so every reader can
-- take the column as the contract's vocabulary (alerting's directory reads venues as
-- kernel.registry.Venue records). A row written by hand with another type stops the migration
-- with its venue ids, to be corrected first: leaving it out would leave that venue unalerted.

DO $$
DECLARE
    bad text;
BEGIN
    SELECT string_agg(format('%s (%s)', venue_id, venue_type), ', ' ORDER BY venue_id) INTO bad
    FROM venue
    WHERE venue_type NOT IN ('residential_compound', 'rental_housing', 'self_built_house',
        'street_shop', 'small_shop', 'small_restaurant', 'small_hotel', 'small_entertainment',
        'small_internet_cafe', 'small_beauty_bath', 'small_workshop', 'small_school',
        'small_clinic', 'factory', 'construction_site', 'high_rise', 'underground_space',
        'industrial_park', 'ebike_shed');
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'venues with a venue_type the contract does not know: %', bad
            USING HINT = 'correct them (firewatch registry import) and migrate again';
    END IF;
END
$$;

ALTER TABLE venue ADD CONSTRAINT venue_venue_type_check CHECK (venue_type IN (
    'residential_compound', 'rental_housing', 'self_built_house', 'street_shop', 'small_shop',
    'small_restaurant', 'small_hotel', 'small_entertainment', 'small_internet_cafe',
    'small_beauty_bath', 'small_workshop', 'small_school', 'small_clinic', 'factory',
    'construction_site', 'high_rise', 'underground_space', 'industrial_park', 'ebike_shed'));
